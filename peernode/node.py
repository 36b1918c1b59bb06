"""The node facade: the one interface the CLI and the TUI use."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from peernode.async_store import AsyncStore
from peernode.clock import now_ms
from peernode.control import ControlServer, Handler
from peernode.errors import BadInput, IdentityExists, NodeError, NoIdentity
from peernode.home import Home
from peernode.network_config import NetworkConfig
from peernode.store import CircleCount, KnownPeer
from peernode.verifier import Rejected, VerifierPool
from peernode.views import FeedEntry, NodeStatus, PeerStatus, Profile
from protocol import kinds
from protocol.errors import LocalProtocolError
from protocol.event import Event, create_event, event_id, load_verified
from protocol.identity import SigningKey

if TYPE_CHECKING:
    from peernode.network import Network

log = logging.getLogger(__name__)

DEFAULT_CIRCLE = "lobby"
PUMP_BATCH = 2000


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """How a node runs. watch_interval: how often to look for events that other
    processes (a CLI command beside a running node) wrote to the same database.
    network: links and discovery, started by start_network(); None = offline."""

    verify_workers: int | None = None
    watch_interval: float = 0.2
    watch: bool = True
    network: NetworkConfig | None = None


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
        self._store = AsyncStore(home.db_path)
        self._pool = VerifierPool(workers=self.config.verify_workers)
        self._key: SigningKey | None = None
        self._profiles: dict[bytes, Profile] = {}
        self._subscribers: list[Subscription] = []
        self._seen_seq = 0
        self._pump_lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None
        self._network: Network | None = None
        self._control: ControlServer | None = None

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
        await self.stop_network()
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
        from peernode.network import Network  # the offline CLI never loads aiohttp & co

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
        await self._store.call(self._store.sync.remember_peer, key, name, host, port, now_ms())

    async def add_exchanged(self, counts: dict[bytes, int]) -> None:
        await self._store.call(self._store.sync.add_exchanged, counts, now_ms())

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
        try:
            return create_event(
                self.key,
                kind=kind,
                circle=circle,
                body=body,
                refs=refs,
                created_at=now_ms() if created_at is None else created_at,
            )
        except LocalProtocolError as exc:
            raise BadInput(str(exc)) from exc

    async def post(
        self, text: str, *, circle: str = DEFAULT_CIRCLE, reply_to: bytes | None = None
    ) -> Event:
        refs = {"reply_to": reply_to} if reply_to is not None else None
        return await self.publish(kinds.NOTE, circle=circle, body={"text": text}, refs=refs)

    async def store_signed(self, events: Sequence[Event]) -> list[Event]:
        """Store events this node signed itself (bulk import); returns the new ones."""
        return await self._store_new(events)

    async def ingest(self, raws: Sequence[bytes]) -> IngestResult:
        """Take events received from elsewhere: drop known ids first, then verify, then store."""
        # Exact copies collapse here; a forged copy (same content, other bytes)
        # must not shadow the genuine one, so only stored ids count as known.
        unique = {raw: event_id(raw) for raw in raws}
        known = await self._store.call(self._store.sync.known_ids, list(set(unique.values())))
        fresh = [raw for raw, event_id_ in unique.items() if event_id_ not in known]
        good, bad = await self._pool.verify(fresh)
        new = await self._store_new(good)
        return IngestResult(new=new, duplicates=len(raws) - len(fresh), rejected=bad)

    async def _store_new(self, events: Sequence[Event]) -> list[Event]:
        if not events:
            return []
        rows = await self._store.call(self._store.sync.insert_events_seq, events, now_ms())
        async with self._pump_lock:
            if rows and rows[0][0] == self._seen_seq + 1 and _contiguous(rows):
                # Nobody else wrote in between: announce what we hold, no re-read.
                self._announce(event for _, event in rows)
                self._seen_seq = rows[-1][0]
                return [event for _, event in rows]
        await self._pump()
        return [event for _, event in rows]

    # -- reading ------------------------------------------------------------------

    async def feed(
        self,
        circle: str | None = None,
        *,
        limit: int | None = None,
        before: tuple[int, bytes] | None = None,
    ) -> list[FeedEntry]:
        rows = await self._store.call(self._store.sync.feed, circle, limit=limit, before=before)
        return [self._entry(load_verified(row.raw), row.received_at) for row in rows]

    async def circles(self) -> list[CircleCount]:
        return await self._store.call(self._store.sync.circles)

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

    def _announce(self, events: Iterable[Event]) -> None:
        for event in events:
            if event.kind == kinds.PROFILE:
                self._remember_profile(event)
            for subscription in self._subscribers:
                subscription.offer(event)

    async def _pump(self) -> None:
        """Announce every event stored since the last pump, whoever stored it."""
        async with self._pump_lock:
            while True:
                rows = await self._store.call(
                    self._store.sync.after_seq, self._seen_seq, PUMP_BATCH
                )
                self._announce(load_verified(row.raw) for row in rows)
                if rows:
                    self._seen_seq = rows[-1].seq
                if len(rows) < PUMP_BATCH:
                    return

    async def _watch(self) -> None:
        # PRAGMA data_version changes only when another connection commits, so
        # this costs one tiny query per interval while nothing happens.
        version = await self._store.call(self._store.sync.data_version)
        while True:
            await asyncio.sleep(self.config.watch_interval)
            current = await self._store.call(self._store.sync.data_version)
            if current != version:
                version = current
                await self._pump()


def _contiguous(rows: Sequence[tuple[int, Event]]) -> bool:
    return rows[-1][0] - rows[0][0] == len(rows) - 1


def _check_profile_input(*, name: str, learning: str, can_help: str) -> None:
    if not name.strip():
        raise BadInput("a display name must not be empty")
