"""The node facade: the one interface the CLI and the TUI use."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from peernode.circles.model import EDITABLE_KINDS, apply_edits_and_deletes, compact, order
from peernode.circles.service import CircleService
from peernode.clock import ShownKey, now_ms
from peernode.errors import BadInput, IdentityExists, NodeError, NoIdentity, StorageError
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.process import alive
from peernode.storage.async_store import AsyncStore
from peernode.storage.store import ChannelCount, KnownPeer
from peernode.verifier import Rejected, VerifierPool
from peernode.views import FeedEntry, NodeStatus, PeerStatus, Profile
from protocol import kinds
from protocol.errors import InvalidEvent, LocalProtocolError
from protocol.event import Event, create_event, event_id, load_verified
from protocol.identity import SigningKey

if TYPE_CHECKING:
    from peernode.net.control import ControlServer, Handler
    from peernode.net.network import Network

log = logging.getLogger(__name__)

DEFAULT_CHANNEL = "lobby"
"""The channel a note goes to when none is named."""
PUMP_BATCH = 2000
RECENT_ARRIVALS = 20_000
"""Arrival times remembered for just-announced events, so a subscriber's entry()
orders them exactly as the store does (twice a subscription's queue)."""
WRITE_PROBE_SECONDS = 5.0
"""While writes fail, how often a tiny one is tried, so recovery is noticed unprompted."""
PROBE_MIN_FREE_BYTES = 256 * 1024
"""A full disk is probed only once this much is free (a small write may fit a full one)."""
TEMPORARY_AUTHORS = "temporary_authors"
"""Settings row: "<pid> <key hex>,<key hex>,..." of authors to forget (see hold_temporarily)."""


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """How a node runs. watch_interval: how often to look for events that other
    processes (a CLI command beside a running node) wrote to the same database.
    network: links and discovery, started by start_network(); None = offline.
    check_storage: check every page of the database at open, so a damaged file is
    reported at start-up (one-shot CLI commands skip it and find damage on use)."""

    verify_workers: int | None = None
    watch_interval: float = 0.2
    watch: bool = True
    network: NetworkConfig | None = None
    check_storage: bool = True


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What became of a batch of received events."""

    new: list[Event]
    duplicates: int
    rejected: list[Rejected]


@dataclass(slots=True)
class Subscription:
    """A live stream of newly stored events, for one consumer.

    Bounded: a consumer that falls far behind gets `overflowed` set and should
    reload what it shows, rather than the node holding events without limit.
    """

    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(maxsize=10_000))
    overflowed: bool = False

    def offer(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True

    def take_overflow(self) -> bool:
        """True once after events were dropped (the queue was full): reload what you show."""
        overflowed, self.overflowed = self.overflowed, False
        return overflowed

    def drain(self, limit: int) -> list[Event]:
        """Up to `limit` events already waiting, without blocking."""
        events: list[Event] = []
        while len(events) < limit and not self.queue.empty():
            events.append(self.queue.get_nowait())
        return events

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()


class Node:
    """A learner's node on one home directory."""

    def __init__(self, home: Home, config: NodeConfig | None = None) -> None:
        self.home = home
        self.config = config or NodeConfig()
        self._store = AsyncStore(home.db_path, check=self.config.check_storage)
        self._pool = VerifierPool(workers=self.config.verify_workers)
        self._key: SigningKey | None = None
        self._profiles: dict[bytes, Profile] = {}
        self._subscribers: list[Subscription] = []
        self._seen_seq = 0
        self._arrivals: dict[bytes, int] = {}
        self._pump_lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None
        self._network: Network | None = None
        self._control: ControlServer | None = None
        self._storage_problem: str | None = None
        self._last_signed_at = 0  # created_at of the last event signed here
        self.circles = CircleService(self, self._store)
        """Study circles: their state, meetings, questions and report."""

    # -- lifecycle ----------------------------------------------------------------

    async def __aenter__(self) -> Node:
        self.home.ensure()
        try:
            await self._store.__aenter__()
            if self.home.has_identity():
                self._key = self.home.load_key()
            for raw in await self._store.call(self._store.sync.latest_of_kind, kinds.PROFILE):
                self._remember_profile(load_verified(raw))
            self._seen_seq = await self._store.call(self._store.sync.max_seq)
            self._storage_problem = await self._store.call(self._store.sync.unwritable_reason)
            await self._forget_leftovers()
        except BaseException:
            # __aexit__ never runs when __aenter__ fails: release the threads here.
            self._pool.close()
            await self._store.__aexit__(None, None, None)
            raise
        if self.config.watch:
            self._watcher = asyncio.create_task(self._watch(), name="peernode-watch")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.stop_network()
        finally:
            if self._watcher is not None:
                self._watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._watcher
            self._pool.close()
            await self._store.__aexit__(exc_type, exc, tb)

    # -- networking ---------------------------------------------------------------

    async def start_network(self) -> None:
        """Listen, announce, link and gossip, per config.network (needs an identity)."""
        if self.config.network is None or self._network is not None:
            return
        # Imported here so offline CLI commands never load aiohttp and zeroconf.
        from peernode.net.control import ControlServer
        from peernode.net.network import Network

        network = Network(self, self.config.network)
        await network.start()
        self._network = network
        self._control = ControlServer(self.home, self._control_handlers())
        await self._control.start(network.port)

    async def stop_network(self) -> None:
        if self._control is not None:
            await self._control.stop()
            self._control = None
        if self._network is not None:
            network, self._network = self._network, None
            await network.stop()

    @property
    def online(self) -> bool:
        return self._network is not None

    async def connect(self, host: str, port: int) -> PeerStatus:
        """Link to a peer by address (when mDNS cannot find it) and keep it linked."""
        if self._network is None:
            raise NodeError("networking is not running")
        return await self._network.connect(host, port)

    def _control_handlers(self) -> dict[str, Handler]:
        async def status(args: dict[str, Any]) -> Any:
            return (await self.status()).to_json()

        async def connect(args: dict[str, Any]) -> Any:
            host, port = args.get("host"), args.get("port")
            if not isinstance(host, str) or not isinstance(port, int):
                raise BadInput("connect needs a host and a port")
            return (await self.connect(host, port)).to_json()

        return {"status": status, "connect": connect}

    async def known_peers(self) -> list[KnownPeer]:
        return await self._store.call(self._store.sync.known_peers)

    async def remember_peer(self, key: bytes, name: str, host: str, port: int) -> None:
        """Best effort: a peer not remembered (disk full, ...) is found again by discovery."""
        try:
            await self._store.call(self._store.sync.remember_peer, key, name, host, port, now_ms())
        except StorageError as exc:
            self._storage_failed(exc)
        else:
            self._storage_ok()

    async def add_exchanged(self, counts: dict[bytes, int]) -> None:
        """Best effort: counters are statistics, never a reason to stop."""
        try:
            await self._store.call(self._store.sync.add_exchanged, counts, now_ms())
        except StorageError as exc:
            self._storage_failed(exc)
        else:
            self._storage_ok()

    @property
    def storage_problem(self) -> str | None:
        """Why the last write failed (disk full, read-only, damaged), until one succeeds."""
        return self._storage_problem

    def _storage_failed(self, exc: StorageError, *, say: bool = True) -> None:
        """Note why a write failed; `say`: log it too (when nobody gets the error)."""
        if say and str(exc) != self._storage_problem:
            log.warning("%s", exc)
        self._storage_problem = str(exc)

    def _storage_ok(self) -> None:
        """A write went through: if writes failed before, events received meanwhile were
        lost, so reconcile with every linked peer now rather than at the next interval."""
        if self._storage_problem is None:
            return
        log.info("the database takes new events again")
        self._storage_problem = None
        if self._network is not None:
            self._network.storage_recovered()

    # -- identity and profiles ----------------------------------------------------

    @property
    def has_identity(self) -> bool:
        return self._key is not None

    @property
    def key(self) -> SigningKey:
        if self._key is None:
            raise NoIdentity(f"no identity in {self.home.path} yet")
        return self._key

    @property
    def public_key(self) -> bytes:
        return self.key.public_key

    async def create_identity(self, name: str, learning: str = "", can_help: str = "") -> Profile:
        """Create the key (refusing to overwrite one) and publish the first profile."""
        _check_profile_input(name=name, learning=learning, can_help=can_help)
        if self._key is None:
            self._key = self.home.create_key()
        elif self.has_profile():
            raise IdentityExists(
                f"{self.home.key_path} exists; change your profile with 'peernode profile'"
            )
        return await self.update_profile(name=name, learning=learning, can_help=can_help)

    def ensure_identity(self) -> SigningKey:
        """The key, created on first use (the profile can come later)."""
        if self._key is None:
            self._key = self.home.create_key()
        return self._key

    def has_profile(self) -> bool:
        return self._key is not None and self._key.public_key in self._profiles

    def profile_of(self, key: bytes) -> Profile:
        return self._profiles.get(key) or Profile.unnamed(key)

    def my_profile(self) -> Profile:
        return self.profile_of(self.public_key)

    def profiles(self) -> list[Profile]:
        return sorted(self._profiles.values(), key=lambda profile: profile.name.lower())

    async def update_profile(
        self,
        *,
        name: str | None = None,
        learning: str | None = None,
        can_help: str | None = None,
    ) -> Profile:
        """Publish a new version of my profile; fields left None keep their value."""
        current = self._profiles.get(self.public_key)
        body = {
            "name": name if name is not None else (current.name if current else ""),
            "learning": learning if learning is not None else (current.learning if current else ""),
            "can_help": can_help if can_help is not None else (current.can_help if current else ""),
        }
        if not body["name"]:
            raise BadInput("a profile needs a name: pass --name NAME")
        created_at = max(now_ms(), (current.updated_at + 1) if current else 0)
        await self.publish(kinds.PROFILE, circle="", body=body, created_at=created_at)
        return self.my_profile()

    def _remember_profile(self, event: Event) -> None:
        known = self._profiles.get(event.author)
        if known is None or (event.created_at, event.id) > (known.updated_at, b""):
            self._profiles[event.author] = Profile.from_event(event)

    # -- writing ------------------------------------------------------------------

    async def publish(
        self,
        kind: str,
        *,
        circle: str,
        body: Mapping[str, Any],
        refs: Mapping[str, bytes] | None = None,
        created_at: int | None = None,
    ) -> Event:
        """Sign and store a new event of mine; it is gossiped like any other."""
        event = self.sign(kind, circle=circle, body=body, refs=refs, created_at=created_at)
        await self._store_new([event])
        return event

    def sign(
        self,
        kind: str,
        *,
        circle: str,
        body: Mapping[str, Any],
        refs: Mapping[str, bytes] | None = None,
        created_at: int | None = None,
    ) -> Event:
        if created_at is None:
            # Strictly after the last one signed here: two posts in one millisecond keep
            # the order they were written in (lists break ties by id otherwise).
            created_at = max(now_ms(), self._last_signed_at + 1)
        try:
            event = create_event(
                self.key, kind=kind, circle=circle, body=body, refs=refs, created_at=created_at
            )
        except LocalProtocolError as exc:
            raise BadInput(str(exc)) from exc
        self._last_signed_at = max(self._last_signed_at, created_at)
        return event

    async def post(
        self, text: str, *, channel: str = DEFAULT_CHANNEL, reply_to: bytes | None = None
    ) -> Event:
        refs = {"reply_to": reply_to} if reply_to is not None else None
        return await self.publish(kinds.NOTE, circle=channel, body={"text": text}, refs=refs)

    async def store_signed(self, events: Sequence[Event]) -> list[Event]:
        """Store events this node signed itself (bulk import); returns the new ones."""
        return await self._store_new(events)

    async def ingest(self, raws: Sequence[bytes]) -> IngestResult:
        """Take events received from elsewhere: drop known ids first, then verify, then store."""
        # Exact copies collapse here; a forged copy (same content, other bytes)
        # must not shadow the genuine one, so only stored ids count as known.
        # When the store cannot take them (disk full, read-only, damaged), nothing
        # is stored and nothing raised: the sender's gossip forgets these ids and
        # offers them again later, so they arrive once the store works again.
        unique = {raw: event_id(raw) for raw in raws}
        try:
            known = await self._store.call(self._store.sync.known_ids, list(set(unique.values())))
        except StorageError as exc:
            self._storage_failed(exc)
            return IngestResult(new=[], duplicates=0, rejected=[])
        fresh = [raw for raw, event_id_ in unique.items() if event_id_ not in known]
        good, bad = await self._pool.verify(fresh)
        before = self._storage_problem
        try:
            new = await self._store_new(good)
        except StorageError as exc:
            if str(exc) != before:
                log.warning("%s", exc)  # once, not for every batch refused
            new = []
        return IngestResult(new=new, duplicates=len(raws) - len(fresh), rejected=bad)

    async def _store_new(self, events: Sequence[Event]) -> list[Event]:
        if not events:
            return []
        received_at = now_ms()
        try:
            rows = await self._store.call(self._store.sync.insert_events_seq, events, received_at)
        except StorageError as exc:
            self._storage_failed(exc, say=False)  # the caller gets it
            raise
        self._storage_ok()
        async with self._pump_lock:
            if rows and rows[0][0] == self._seen_seq + 1 and _contiguous(rows):
                # Nobody else wrote in between: announce what we hold, no re-read.
                self._announce((event, received_at) for _, event in rows)
                self._seen_seq = rows[-1][0]
                return [event for _, event in rows]
        await self._pump()
        return [event for _, event in rows]

    # -- reading ------------------------------------------------------------------

    async def feed(
        self,
        channel: str | None = None,
        *,
        limit: int | None = None,
        before: ShownKey | None = None,
        after: ShownKey | None = None,
    ) -> list[FeedEntry]:
        """Events newest last; page backwards with `before`, forwards with `after`.

        Order and cursors are FeedEntry.key, (shown_at, created_at, id): the
        author's claim bounded by when it arrived, see peernode.clock.

        Edits and deletes are applied (only an author's own count) rather than
        listed: an edited note shows its new body, a deleted one no content.
        """
        rows = await self._store.call(
            self._store.sync.feed,
            channel,
            limit=limit,
            before=before,
            after=after,
            exclude_kinds=(kinds.EDIT, kinds.DELETE),
        )
        events = [load_verified(row.raw) for row in rows]
        changes = await self._store.call(
            self._store.sync.referring_any, [event.id for event in events], "target"
        )
        live = apply_edits_and_deletes(sorted([*events, *map(load_verified, changes)], key=order))
        return [
            FeedEntry(
                event,
                self.profile_of(event.author).name,
                row.received_at,
                edited_body=live.bodies.get(event.id),
                deleted=event.id in live.deleted,
            )
            for event, row in zip(events, rows, strict=True)
        ]

    async def channels(self) -> list[ChannelCount]:
        """Every channel with events, and how many."""
        return await self._store.call(self._store.sync.channels)

    async def event_count(self) -> int:
        return await self._store.call(self._store.sync.count)

    async def status(self) -> NodeStatus:
        """The node at a glance: live peers when online, remembered ones otherwise."""
        profile = self.my_profile() if self.has_identity else None
        live: list[PeerStatus] = self._network.peer_statuses() if self._network else []
        seen = {peer.key for peer in live}
        remembered = [
            PeerStatus(
                key=known.key,
                name=known.name or self.profile_of(known.key).name,
                address=f"{known.host}:{known.port}",
                linked=False,
                in_sync=False,
                last_seen=known.last_seen,
                events_exchanged=known.events_exchanged,
            )
            for known in await self.known_peers()
            if known.key not in seen
        ]
        return NodeStatus(
            key=self.public_key if self.has_identity else b"",
            name=profile.name if profile else "",
            port=self._network.port if self._network else None,
            events=await self.event_count(),
            peers=tuple(live + remembered),
            discovery=self._network.discovery_state if self._network else "off",
        )

    async def raw_events(self, ids: Sequence[bytes]) -> list[bytes]:
        return await self._store.call(self._store.sync.raw_by_ids, ids)

    async def time_index(self) -> list[tuple[int, bytes]]:
        return await self._store.call(lambda: list(self._store.sync.time_index()))

    def entry(self, event: Event, received_at: int | None = None) -> FeedEntry:
        """A FeedEntry for an event from the subscription (or one just published).

        received_at defaults to the arrival the node recorded when it announced the
        event, so the entry sorts exactly where the stored one does; else now.
        """
        if received_at is None:
            received_at = self._arrivals.get(event.id)
        return self._entry(event, now_ms() if received_at is None else received_at)

    def _entry(self, event: Event, received_at: int) -> FeedEntry:
        return FeedEntry(event, self.profile_of(event.author).name, received_at)

    # -- the stream of new events -------------------------------------------------

    def subscribe(self) -> Subscription:
        subscription = Subscription()
        self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(subscription)

    def _announce(self, events: Iterable[tuple[Event, int]]) -> None:
        """Tell subscribers about newly stored events (with their received_at)."""
        arrivals = self._arrivals
        for event, received_at in events:
            if event.kind == kinds.PROFILE:
                self._remember_profile(event)
            arrivals[event.id] = received_at
            if len(arrivals) > RECENT_ARRIVALS:
                del arrivals[next(iter(arrivals))]
            for subscription in self._subscribers:
                subscription.offer(event)

    async def _pump(self) -> None:
        """Announce every event stored since the last pump, whoever stored it."""
        async with self._pump_lock:
            while True:
                rows = await self._store.call(
                    self._store.sync.after_seq, self._seen_seq, PUMP_BATCH
                )
                self._announce((load_verified(row.raw), row.received_at) for row in rows)
                if rows:
                    self._seen_seq = rows[-1].seq
                if len(rows) < PUMP_BATCH:
                    return

    async def _watch(self) -> None:
        # PRAGMA data_version changes only when another connection commits, so
        # this costs one tiny query per interval while nothing happens.
        version = await self._store.call(self._store.sync.data_version)
        # Catch up on what others committed between opening and that first read;
        # anything they commit later changes the version.
        await self._pump()
        loop = asyncio.get_running_loop()
        next_probe = loop.time()
        while True:
            await asyncio.sleep(self.config.watch_interval)
            try:
                current = await self._store.call(self._store.sync.data_version)
                if current != version:
                    version = current
                    await self._pump()
                if self._storage_problem is not None and loop.time() >= next_probe:
                    next_probe = loop.time() + WRITE_PROBE_SECONDS
                    await self._probe_writes()
            except StorageError as exc:  # a damaged page: say so, keep watching
                self._storage_failed(exc)

    async def _probe_writes(self) -> None:
        """Try a tiny write; if it goes through, writes work again (see _storage_ok)."""
        if shutil.disk_usage(self.home.path).free < PROBE_MIN_FREE_BYTES:
            return
        await self._store.call(self._store.sync.set_setting, "write_probe", str(now_ms()))
        self._storage_ok()

    # -- finding, editing, deleting ---------------------------------------------------

    async def find_event(self, ref: str | bytes, kind: str | None = None) -> Event:
        """The event whose id is `ref` (bytes, or hex: the whole id or ≥ 8 leading digits)."""
        prefix = ref.hex() if isinstance(ref, bytes) else ref.strip().lower()
        if not 8 <= len(prefix) <= 64 or prefix.strip("0123456789abcdef"):
            raise BadInput(f"{str(ref)[:70]!r} is not an event id (8 to 64 hex digits)")
        raws = await self._store.call(self._store.sync.raw_by_id_prefix, prefix, 2)
        if len(raws) != 1:
            problem = "matches several events; give more digits" if raws else "is not here"
            raise BadInput(f"event {prefix} {problem}")
        event = load_verified(raws[0])
        if kind is not None and event.kind != kind:
            raise BadInput(f"event {prefix} is a {event.kind}, not a {kind}")
        return event

    async def edit(self, target: str | bytes, changes: Mapping[str, Any]) -> Event:
        """Publish new values for fields of my event (None removes an optional field)."""
        event = await self._own_event(target)
        if event.kind not in EDITABLE_KINDS:
            raise BadInput(f"{event.kind} events cannot be edited")
        state = await self.circles.state(event.circle)
        merged = {**state.bodies.get(event.id, event.body), **changes}
        spec = kinds.spec_of(event.kind)
        try:
            if spec is not None:
                spec.check_body({k: v for k, v in merged.items() if v is not None})
        except InvalidEvent as exc:
            raise BadInput(str(exc)) from exc
        after = max(event.created_at, await self.latest_mine_referring(event.id, "target"))
        refs = {"target": event.id}
        return await self.publish_after(kinds.EDIT, event.circle, dict(changes), refs, after)

    async def delete(self, target: str | bytes, reason: str = "") -> Event:
        """Withdraw my event; the tombstone keeps it from coming back through sync."""
        event = await self._own_event(target)
        if event.kind == kinds.DELETE:
            raise BadInput("a delete cannot be deleted")
        body = compact({"reason": reason})
        refs = {"target": event.id}
        return await self.publish_after(kinds.DELETE, event.circle, body, refs, event.created_at)

    async def _own_event(self, target: str | bytes) -> Event:
        event = await self.find_event(target)
        if event.author != self.public_key:
            raise BadInput("you can only edit or delete your own events")
        return event

    async def latest_mine_referring(self, target: bytes, name: str) -> int:
        """The newest created_at of my events referring to `target` as `name` (or 0)."""
        raws = await self._store.call(self._store.sync.referring, target, name)
        events = (load_verified(raw) for raw in raws)
        return max((e.created_at for e in events if e.author == self.public_key), default=0)

    async def publish_after(
        self,
        kind: str,
        circle: str,
        body: Mapping[str, Any],
        refs: Mapping[str, bytes] | None,
        after: int,
    ) -> Event:
        """Publish with created_at after `after`, so it orders after what it replaces."""
        created_at = max(now_ms(), after + 1)
        return await self.publish(kind, circle=circle, body=body, refs=refs, created_at=created_at)

    # -- forgetting ---------------------------------------------------------------------

    async def hold_temporarily(self, authors: Iterable[bytes]) -> None:
        """These authors' events are temporary (the demo room's): forget_authors() drops
        them, and if this process dies first, the next node opened on this home does."""
        _, held = await self._temporary_authors()
        await self._set_temporary_authors(os.getpid(), held | set(authors))

    async def _set_temporary_authors(self, pid: int | None, keys: set[bytes]) -> None:
        value = f"{pid} {','.join(sorted(key.hex() for key in keys))}" if keys else ""
        await self._store.call(self._store.sync.set_setting, TEMPORARY_AUTHORS, value)

    async def _temporary_authors(self) -> tuple[int | None, set[bytes]]:
        """(the pid that holds them, the keys); (None, empty) when none are held."""
        value = await self._store.call(self._store.sync.setting, TEMPORARY_AUTHORS)
        pid, _, keys = (value or "").partition(" ")
        try:
            return int(pid), {bytes.fromhex(key) for key in keys.split(",") if key}
        except ValueError:  # empty, or not ours to read: nothing held
            return None, set()

    async def _forget_leftovers(self) -> None:
        """Forget temporary authors whose process died without forgetting them (a crash
        during the demo), so their events neither stay nor reach real peers."""
        pid, held = await self._temporary_authors()
        if pid is None or not held or (pid != os.getpid() and alive(pid)):
            return  # nothing left over, or a live process (a demo running) still holds them
        keeper = self._key.public_key if self._key is not None else None
        try:
            forgotten = await self.forget_authors(held, keep_referenced_by=keeper)
        except StorageError as exc:  # read-only or full: they go at a later start
            self._storage_failed(exc)
            return
        log.info("forgot %d events of a demo room that did not close", forgotten)

    async def forget_authors(
        self, authors: Iterable[bytes], *, keep_referenced_by: bytes | None = None
    ) -> int:
        """Drop every event of `authors` and forget them as peers (the demo room's
        clean-up); returns how many events went. Kept: what events of
        `keep_referenced_by` refer to, directly or through a chain of refs (a reply's
        parent, its parent, ...), and the profiles of those events' authors.

        Nothing leaves a tombstone: a peer that still holds the events can send them
        again. Networking restarts if it runs, so gossip forgets them too.
        """
        gone = set(authors)
        was_online = self.online
        await self.stop_network()
        await self._pump()  # announce what is stored before the sequence numbers change
        async with self._pump_lock:
            forgotten = await self._store.call(
                self._store.sync.forget_authors,
                list(gone),
                keep_referenced_by,
                kinds.PROFILE,
            )
            # Deleted rows free their sequence numbers for reuse: start counting anew.
            self._seen_seq = await self._store.call(self._store.sync.max_seq)
            pid, held = await self._temporary_authors()
            if held & gone:
                await self._set_temporary_authors(pid, held - gone)
        self._profiles.clear()
        for raw in await self._store.call(self._store.sync.latest_of_kind, kinds.PROFILE):
            self._remember_profile(load_verified(raw))
        if was_online:
            await self.start_network()
        return forgotten


def _contiguous(rows: Sequence[tuple[int, Event]]) -> bool:
    return rows[-1][0] - rows[0][0] == len(rows) - 1


def _check_profile_input(*, name: str, learning: str, can_help: str) -> None:
    if not name.strip():
        raise BadInput("a display name must not be empty")
