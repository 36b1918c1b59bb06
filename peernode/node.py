"""The node facade: the one interface the CLI and the TUI use."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from peernode import lookup
from peernode.challenges.service import ChallengeService
from peernode.circles.bodies import compact
from peernode.circles.derive import NotEditable, apply_edits_and_deletes, edited_body, order
from peernode.circles.service import CircleService
from peernode.clock import ShownKey, now_ms
from peernode.config import NodeConfig
from peernode.errors import BadInput, IdentityExists, NodeError, NoIdentity, StorageError
from peernode.files.service import FileService
from peernode.health import WriteHealth
from peernode.home import Home, HomeLock, LockHolder
from peernode.moderation import ModerationList, Policy
from peernode.moderation.policy import STRUCTURE_KINDS, Familiar
from peernode.ports import IngestResult
from peernode.problems import explain, not_editable
from peernode.profiles import ProfileBook, next_version
from peernode.storage import (
    AsyncStore,
    ChannelCount,
    KnownPeer,
    Level,
    LocalRules,
    TemporaryAuthors,
)
from peernode.stream import EventStream, Subscription
from peernode.verifier import VerifierPool
from peernode.views import FeedEntry, Finding, NodeStatus, PeerStatus, Profile
from protocol import kinds
from protocol.errors import InvalidEvent, LocalProtocolError
from protocol.event import Event, create_event, event_id, load_verified
from protocol.identity import SigningKey

if TYPE_CHECKING:
    from peernode.api.server import ApiServer
    from peernode.net.control import ControlServer
    from peernode.net.network import Network

__all__ = ["DEFAULT_CHANNEL", "IngestResult", "Node", "NodeConfig", "Subscription"]

log = logging.getLogger(__name__)

DEFAULT_CHANNEL = "lobby"
"""The channel a note goes to when none is named."""


class Node:
    """A learner's node on one home directory."""

    def __init__(self, home: Home, config: NodeConfig | None = None) -> None:
        self.home = home
        self.config = config or NodeConfig()
        self._store = AsyncStore(home.db_path, check=self.config.check_storage)
        self._pool = VerifierPool(workers=self.config.verify_workers)
        self._key: SigningKey | None = None
        self._profiles = ProfileBook()
        self._stream = EventStream(self._store, on_event=self._profiles.remember)
        self._health = WriteHealth(
            home.path,
            self._store,
            probe_interval=self.config.write_probe_interval,
            on_recovered=self._storage_recovered,
        )
        self._temporary = TemporaryAuthors(self._store)
        self._remembered_at_open: set[bytes] = set()
        self._policy = Policy(
            self._store, self.config.admission, self._familiar_authors, self._policy_changed
        )
        self._watcher: asyncio.Task[None] | None = None
        self._network: Network | None = None
        self._control: ControlServer | None = None
        self._lock = HomeLock(home, role=self.config.role)
        self._attached = False
        self._api: ApiServer | None = None
        self._api_port = 0  # kept across restarts of networking: clients keep the URL
        self._last_signed_at = 0  # created_at of the last event signed here
        self._events_without_key = 0
        self.files = FileService(self, self._store, home.path, self.config.files)
        """Files shared with circles: share, list, fetch from peers, save a copy."""
        self.challenges = ChallengeService(self, self._store, self.files)
        """Learning challenges: submissions (with shared files), peer reviews and badges."""
        self.circles = CircleService(self, self._store, challenges=self.challenges)
        """Study circles: their state, meetings, questions and report."""

    # -- lifecycle ----------------------------------------------------------------

    async def __aenter__(self) -> Node:
        self.home.ensure()
        try:
            await self._store.__aenter__()
            if self.home.has_identity():
                self._key = self.home.load_key()
            else:  # events here without a key: the key was lost, never mint one silently
                self._events_without_key = await self._store.count()
            await self._profiles.load(self._store)
            await self._policy.load()
            self._remembered_at_open = {peer.key for peer in await self.known_peers()}
            await self._stream.open()
            self._health.problem = self._store.unwritable
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
            await self.files.close()
            self._pool.close()
            await self._store.__aexit__(exc_type, exc, tb)

    async def _watch(self) -> None:
        """Announce what other processes write, and notice when writes work again."""
        await self._stream.catch_up()
        while True:
            await asyncio.sleep(self.config.watch_interval)
            try:
                await self._stream.catch_up()
                if await self._policy.reload():  # a block from a CLI command
                    await self._blocks_changed()
                await self._health.probe_when_due()
            except StorageError as exc:  # a damaged page: say so, keep watching
                self._health.failed(exc)

    # -- networking ---------------------------------------------------------------

    async def start_network(self) -> None:
        """Listen, announce, link and gossip, per config.network (needs an identity)."""
        if self.config.network is None or self._network is not None or self._attached:
            return
        # Imported here so offline CLI commands never load aiohttp and zeroconf.
        from peernode.api.server import ApiServer
        from peernode.net.control import ControlServer, node_handlers
        from peernode.net.network import Network

        self._lock.acquire()  # one networked node per home: the second fails here
        try:
            network = Network(self, self.config.network)
            self.files.attach(
                network,
                self.key,
                self.config.network.link,
                info=network.link_info,
            )
            await network.start()
        except BaseException:
            self._lock.release()
            raise
        self._network = network
        from peernode.files.control import file_handlers

        if self.config.api is not None:
            self._api = ApiServer(self, self._store, self.home, self.config.api)
            await self._api.start(prefer=self._api_port)
            self._api_port = self._api.port
        handlers = {
            **node_handlers(self, stoppable=self.config.role == "serve"),
            **file_handlers(self.files),
        }
        self._control = ControlServer(self.home, handlers)
        await self._control.start(network.port, api_port=self._api.port if self._api else None)

    async def stop_network(self) -> None:
        try:
            if self._control is not None:
                await self._control.stop()
                self._control = None
            await self.files.detach()
            if self._api is not None:
                api, self._api = self._api, None
                await api.stop()
            if self._network is not None:
                network, self._network = self._network, None
                await network.stop()
        finally:
            self._lock.release()

    @property
    def api(self) -> ApiServer | None:
        """The local API while networking runs (its port, its streams' counters)."""
        return self._api

    @property
    def online(self) -> bool:
        return self._network is not None

    @property
    def attached(self) -> bool:
        """This process uses the node another one runs on this home (see attach)."""
        return self._attached

    async def attach(self) -> NodeStatus:
        """Use the node another process runs on this home instead of starting one here:
        status and connect go to it through the control API, while notes are read from
        and written to the shared database, which that node watches and shares. Ends by
        itself when that node stops (status then says what this database holds)."""
        from peernode.net import control

        answer = await control.call(self.home, "status")
        try:
            status = NodeStatus.from_json(answer)
        except (KeyError, TypeError, ValueError) as exc:
            raise NodeError(
                "the node running on this home answers in a way not understood"
            ) from exc
        self._attached = True
        return status

    def home_holder(self) -> LockHolder | None:
        """The other process running this home's networked node, or None when none is."""
        return self._lock.holder()

    async def take_over(self) -> None:
        """Ask the `peernode serve` running on this home to stop, and wait until it has
        (then start_network can run here); NodeError when it does not."""
        from peernode.net import control

        await control.ask_to_stop(self.home)

    async def connect(self, host: str, port: int) -> PeerStatus:
        """Link to a peer by address (when mDNS cannot find it) and keep it linked."""
        if self._attached:
            from peernode.net import control

            answer = await control.call(self.home, "connect", {"host": host, "port": port})
            return PeerStatus.from_json(answer)
        if self._network is None:
            raise NodeError("networking is not running")
        return await self._network.connect(host, port)

    async def diagnose(
        self,
        found: Callable[[Finding], None],
        step: Callable[[str], None],
        *,
        listen_seconds: float | None = None,
    ) -> bool:
        """The network check of `peernode doctor`, run here: each finding and step as it
        comes; True when a peer is linked or heard (peernode.net.doctor)."""
        from peernode.net import doctor

        status = await self.status()
        seen = doctor.NodeSeen.from_status(status) if self.online or self._attached else None
        seconds = doctor.LISTEN_SECONDS if listen_seconds is None else listen_seconds
        return await doctor.diagnose(seen, found, step, listen_seconds=seconds)

    async def known_peers(self) -> list[KnownPeer]:
        return await self._store.known_peers()

    async def familiar_keys(self) -> set[bytes]:
        """Peers with history: remembered (linked with before) or members of my circles.
        The network keeps link slots for them that strangers cannot take."""
        _, members = await self._my_circles()
        keys = {peer.key for peer in await self.known_peers()} | members
        keys.discard(self.public_key)
        return keys

    async def _my_circles(self) -> tuple[set[str], set[bytes]]:
        """The circles I am a member of, and everyone in them (me included)."""
        slugs: set[str] = set()
        keys: set[bytes] = set()
        for circle in await self.circles.known():
            if circle.member:
                slugs.add(circle.slug)
                keys.update(
                    member.key for member in (await self.circles.state(circle.slug)).members
                )
        return slugs, keys

    async def _familiar_authors(self) -> Familiar:
        """Whose events are stored without a budget: me, the members of my circles, and the
        peers remembered when this node opened (linked with in an earlier run: a key that
        links now becomes familiar only at the next start, so fresh keys gain nothing)."""
        if not self.has_identity:
            return Familiar(frozenset(), frozenset())
        slugs, members = await self._my_circles()
        authors = {self.public_key} | self._remembered_at_open | members
        return Familiar(frozenset(authors), frozenset(slugs))

    def trust_peer(self, key: bytes) -> None:
        """The learner named this peer (--peer, connect): its events are stored as a
        familiar author's (see peernode.admission)."""
        self._policy.trust(key)

    def is_blocked(self, key: bytes) -> bool:
        return self._policy.is_blocked(key)

    def hides(self, event: Event) -> bool:
        """Whether lists shown to the learner leave this event out (muted, blocked, hidden)."""
        return self._policy.hides(event)

    def _policy_changed(self) -> None:
        if self._network is not None:
            self._network.policy_changed()

    async def _blocks_changed(self) -> None:
        """Someone was blocked or unblocked: restart networking, so links with the blocked
        are dropped and the reconciliation index holds exactly what may be offered."""
        if self.online:
            await self.stop_network()
            await self.start_network()

    async def remember_peer(self, key: bytes, name: str, host: str, port: int) -> None:
        """Best effort: a peer not remembered (disk full, ...) is found again by discovery."""
        await self._health.best_effort(self._store.remember_peer(key, name, host, port, now_ms()))

    async def add_exchanged(self, counts: dict[bytes, int]) -> None:
        """Best effort: counters are statistics, never a reason to stop."""
        await self._health.best_effort(self._store.add_exchanged(counts, now_ms()))

    @property
    def storage_problem(self) -> str | None:
        """Why the last write failed (disk full, read-only, damaged), until one succeeds."""
        return self._health.problem

    def _storage_recovered(self) -> None:
        """Writes work again: events received meanwhile were lost, so reconcile with
        every linked peer now rather than at the next interval."""
        if self._network is not None:
            self._network.storage_recovered()

    # -- identity and profiles ----------------------------------------------------

    @property
    def has_identity(self) -> bool:
        return self._key is not None

    @property
    def key(self) -> SigningKey:
        if self._key is None:
            self._refuse_if_key_lost()
            raise NoIdentity(
                f"there is no identity in {self.home.path} yet;"
                " create one with 'peernode init --name NAME'"
            )
        return self._key

    @property
    def public_key(self) -> bytes:
        return self.key.public_key

    async def create_identity(
        self, name: str, learning: str = "", can_help: str = "", *, fresh: bool = False
    ) -> Profile:
        """Create the key (refusing to overwrite one) and publish the first profile.
        fresh: the learner asked for a new identity although this home holds events
        signed by a key that is gone ('peernode init --new')."""
        if not name.strip():
            raise BadInput("a display name must not be empty")
        if self._key is None:
            if not fresh:
                self._refuse_if_key_lost()
            self._key = self.home.create_key()
        elif self.has_profile():
            raise IdentityExists(
                f"{self.home.key_path} exists; change your profile with 'peernode profile'"
            )
        return await self.update_profile(name=name, learning=learning, can_help=can_help)

    def ensure_identity(self) -> SigningKey:
        """The key, created on first use (the profile can come later), but never in a
        home whose events were signed by a key that is no longer here."""
        if self._key is None:
            self._refuse_if_key_lost()
            self._key = self.home.create_key()
        return self._key

    def _refuse_if_key_lost(self) -> None:
        if self._events_without_key:
            raise NoIdentity(
                f"the identity key {self.home.key_path} is missing, though this home holds"
                f" {self._events_without_key} events from before; {self.home.restore_hint}"
            )

    def has_profile(self) -> bool:
        return self._key is not None and self._profiles.get(self._key.public_key) is not None

    def profile_of(self, key: bytes) -> Profile:
        return self._profiles.of(key)

    def name_of(self, key: bytes, *, otherwise: str = "") -> str:
        """The newest profile's name, else `otherwise`, else the unnamed placeholder."""
        known = self._profiles.get(key)
        return known.name if known is not None else otherwise or self.profile_of(key).name

    def my_profile(self) -> Profile:
        return self.profile_of(self.public_key)

    def profiles(self) -> list[Profile]:
        return self._profiles.by_name()

    async def update_profile(
        self,
        *,
        name: str | None = None,
        learning: str | None = None,
        can_help: str | None = None,
    ) -> Profile:
        """Publish a new version of my profile; fields left None keep their value."""
        current = self._profiles.get(self.public_key)
        body, created_at = next_version(current, name=name, learning=learning, can_help=can_help)
        await self.publish(kinds.PROFILE, circle="", body=body, created_at=created_at)
        return self.my_profile()

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
            raise BadInput(explain(exc, kind)) from exc
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

    async def ingest(self, raws: Sequence[bytes], sender: bytes | None = None) -> IngestResult:
        """Take events received from elsewhere: drop known ids first, then verify, then
        admit (strangers within their budget, see peernode.admission), then store.

        sender: the peer they came from; None for events from no peer (the demo room),
        of which only blocked authors' are declined."""
        # Exact copies collapse here; a forged copy (same content, other bytes)
        # must not shadow the genuine one, so only stored ids count as known.
        # When the store cannot take them (disk full, read-only, damaged), nothing
        # is stored and nothing raised: the sender's gossip forgets these ids and
        # offers them again later, so they arrive once the store works again.
        unique = {raw: event_id(raw) for raw in raws}
        try:
            known = await self._store.known_ids(list(set(unique.values())))
        except StorageError as exc:
            self._health.failed(exc)
            return IngestResult(new=[], duplicates=0, rejected=[])
        fresh = [raw for raw, event_id_ in unique.items() if event_id_ not in known]
        good, bad = await self._pool.verify(fresh)
        admitted = await self._policy.admit(good, sender)
        before = self._health.problem
        try:
            new = await self._store_new(admitted.store)
        except StorageError as exc:
            if str(exc) != before:
                log.warning("%s", exc)  # once, not for every batch refused
            new = []
        return IngestResult(
            new=new,
            duplicates=len(raws) - len(fresh),
            rejected=bad,
            declined=admitted.declined,
        )

    async def _store_new(self, events: Sequence[Event]) -> list[Event]:
        if not events:
            return []
        received_at = now_ms()
        try:
            rows = await self._store.insert_events_seq(events, received_at)
        except StorageError as exc:
            self._health.failed(exc, say=False)  # the caller gets it
            raise
        self._health.ok()
        me = self._key.public_key if self._key is not None else None
        self._policy.stored((event for _, event in rows), me)
        await self._stream.stored(rows, received_at)
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
        rows = await self._store.feed(
            channel,
            limit=limit,
            before=before,
            after=after,
            exclude_kinds=(kinds.EDIT, kinds.DELETE),
            visible=True,
        )
        events = [load_verified(row.raw) for row in rows]
        changes = await self._store.referring_any([event.id for event in events], "target")
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
        return await self._store.channels()

    async def event_count(self) -> int:
        return await self._store.count()

    async def status(self) -> NodeStatus:
        """The node at a glance: live peers when online or attached, remembered ones
        otherwise."""
        if self._attached:
            from peernode.net import control

            try:
                return NodeStatus.from_json(await control.call(self.home, "status"))
            except (control.NotRunning, KeyError, TypeError, ValueError):
                log.info("the node this process was attached to stopped")
                self._attached = False
        profile = self.my_profile() if self.has_identity else None
        live: list[PeerStatus] = self._network.peer_statuses() if self._network else []
        seen = {peer.key for peer in live}
        remembered = [
            PeerStatus.remembered(known, self.name_of(known.key, otherwise=known.name))
            for known in await self.known_peers()
            if known.key not in seen
        ]
        status = NodeStatus(
            key=self.public_key if self.has_identity else b"",
            name=profile.name if profile else "",
            port=self._network.port if self._network else None,
            events=await self.event_count(),
            peers=tuple(live + remembered),
            discovery=self._network.discovery_state if self._network else "off",
        )
        if self._network is not None:
            status = self._network.with_network(status)
        return status

    async def raw_events(self, ids: Sequence[bytes]) -> list[bytes]:
        return await self._store.raw_by_ids(ids)

    async def time_index(self) -> list[tuple[int, bytes]]:
        """(created_at, id) of the events that may leave this node: not the local ones."""
        return await self._store.time_index()

    async def shared_events(self, ids: Sequence[bytes]) -> list[bytes]:
        """As raw_events, without the local-only events (see keep_local)."""
        return await self._store.shared_raw_by_ids(ids)

    async def shared_ids(self, ids: Sequence[bytes]) -> set[bytes]:
        """Those of `ids` held that may leave this node (see keep_local)."""
        return await self._store.shared_ids(ids)

    def entry(self, event: Event, received_at: int | None = None) -> FeedEntry:
        """A FeedEntry for an event from the subscription (or one just published).

        received_at defaults to the arrival the node recorded when it announced the
        event, so the entry sorts exactly where the stored one does; else now.
        """
        if received_at is None:
            received_at = self._stream.arrival(event.id)
        when = now_ms() if received_at is None else received_at
        return FeedEntry(event, self.profile_of(event.author).name, when)

    async def in_circle(self, circle: str) -> bool:
        """Whether I am a member of the study circle `circle`."""
        if not self.has_identity:
            return False
        return (await self.circles.state(circle)).is_member(self.public_key)

    # -- the stream of new events -------------------------------------------------

    def subscribe(self) -> Subscription:
        return self._stream.subscribe()

    def unsubscribe(self, subscription: Subscription) -> None:
        self._stream.unsubscribe(subscription)

    # -- finding, editing, deleting ---------------------------------------------------

    async def find_event(self, ref: str | bytes, kind: str | None = None) -> Event:
        """The event whose id is `ref` (bytes, or hex: the whole id or ≥ 8 leading digits)."""
        return await lookup.find_event(self._store, ref, kind)

    async def edit(self, target: str | bytes, changes: Mapping[str, Any]) -> Event:
        """Publish new values for fields of my event (None removes an optional field)."""
        event = await self._own_event(target)
        state = await self.circles.state(event.circle)
        try:
            edited_body(event.kind, state.bodies.get(event.id, event.body), changes)
        except NotEditable as exc:
            raise BadInput(not_editable(event.kind)) from exc
        except InvalidEvent as exc:
            raise BadInput(explain(exc, event.kind)) from exc
        after = max(event.created_at, await self.latest_mine_referring(event.id, "target"))
        refs = {"target": event.id}
        return await self.publish_after(kinds.EDIT, event.circle, dict(changes), refs, after)

    async def delete(self, target: str | bytes, reason: str = "") -> Event:
        """Withdraw my event; the tombstone keeps it from coming back through sync."""
        event = await self._own_event(target)
        if event.kind == kinds.DELETE:
            raise BadInput("a delete cannot be deleted")
        if event.kind in kinds.CHALLENGE_KINDS:  # signed work and reviews are badges' proofs
            raise BadInput(
                "challenges, work and reviews stay, as the proof of badges:"
                " write a new version, revision or review instead"
            )
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
        return await lookup.latest_referring(self._store, target, name, self.public_key)

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

    # -- moderation (the learner's own; nothing is signed or sent) -------------------------

    async def moderate(self, key: bytes, level: Level) -> None:
        """Mute (hide everywhere) or block (hide, neither store nor forward, no links)."""
        if self.has_identity and key == self.public_key:
            raise BadInput("you cannot mute or block yourself")
        if await self._policy.set_level(key, level):
            await self._blocks_changed()

    async def unmoderate(self, key: bytes, level: Level) -> bool:
        """Undo a mute or a block; False when there was none."""
        cleared, blocks_changed = await self._policy.clear_level(key, level)
        if blocks_changed:
            await self._blocks_changed()
        return cleared

    async def hide(self, target: str | bytes) -> Event:
        """Hide one event from my lists (only here, only for me)."""
        event = await self.find_event(target)
        if event.kind in STRUCTURE_KINDS:
            raise BadInput(
                "a circle's versions and memberships cannot be hidden; mute the person instead"
            )
        await self._policy.hide(event.id)
        return event

    async def unhide(self, target: str | bytes) -> bool:
        """Show a hidden event again; False when it was not hidden."""
        event_id = (await self.find_event(target)).id
        return await self._policy.unhide(event_id)

    async def moderation(self) -> ModerationList:
        """What I muted, blocked and hid, with names, newest first."""
        return ModerationList.of(self._policy.moderation, self.name_of)

    # -- forgetting ---------------------------------------------------------------------

    async def keep_local(
        self, *, channels: Iterable[str] = (), authors: Iterable[bytes] = ()
    ) -> None:
        """Events posted in `channels` or signed by `authors` never leave this node: not
        offered, pushed or sent to any peer, now or later, by this process or another
        (the demo room's, see peernode.storage.local)."""
        await self._store.keep_local(LocalRules(frozenset(channels), frozenset(authors)))

    async def hold_temporarily(self, authors: Iterable[bytes]) -> None:
        """These authors' events are temporary (the demo room's): forget_authors() drops
        them, and if this process dies first, the next node opened on this home does."""
        await self._temporary.hold(authors)

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
        was_online = self.online
        await self.stop_network()
        async with self._stream.renumbering():
            forgotten = await self._temporary.forget(authors, keep_referenced_by=keep_referenced_by)
        await self._profiles.load(self._store)
        if was_online:
            await self.start_network()
        return forgotten

    async def _forget_leftovers(self) -> None:
        """Forget temporary authors whose process died without forgetting them (a crash
        during the demo), so their events neither stay nor reach real peers."""
        held = await self._temporary.left_over()
        if not held:
            return  # nothing left over, or a live process (a demo running) still holds them
        keeper = self._key.public_key if self._key is not None else None
        try:
            forgotten = await self.forget_authors(held, keep_referenced_by=keeper)
        except StorageError as exc:  # read-only or full: they go at a later start
            self._health.failed(exc)
            return
        log.info("forgot %d events of a demo room that did not close", forgotten)
