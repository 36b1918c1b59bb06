"""The node facade: the one interface the CLI and the TUI use."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from peernode import attach, lookup
from peernode.attach import Attachment
from peernode.challenges.service import ChallengeService
from peernode.circles.service import CircleService
from peernode.clock import ShownKey, now_ms
from peernode.config import NodeConfig
from peernode.errors import BadInput, IdentityExists, StorageError
from peernode.feed import Feed
from peernode.files.service import FileService
from peernode.forgetting import Forgetting
from peernode.health import WriteHealth
from peernode.home import Home, HomeLock, LockHolder
from peernode.identity import KeyHolder
from peernode.intake import Intake
from peernode.moderation import ModerationList, Policy
from peernode.moderation.actions import Moderator
from peernode.moderation.familiar import familiar_authors, familiar_keys
from peernode.moderation.policy import Familiar
from peernode.networking import Networking
from peernode.ports import IngestResult
from peernode.profiles import ProfileBook, next_version
from peernode.storage import AsyncStore, ChannelCount, KnownPeer, Level
from peernode.stream import EventStream, Subscription
from peernode.verifier import VerifierPool
from peernode.views import FeedEntry, Finding, NodeStatus, PeerStatus, Profile
from protocol import kinds
from protocol.event import Event
from protocol.identity import SigningKey

if TYPE_CHECKING:
    from peernode.api.server import ApiServer
    from peernode.net.network import Network

__all__ = ["DEFAULT_CHANNEL", "IngestResult", "Node", "NodeConfig", "Subscription"]

log = logging.getLogger(__name__)

DEFAULT_CHANNEL = "lobby"
"""The channel a note goes to when none is named."""


class Node:
    """A learner's node on one home directory.

    A facade: each concept lives in its own module (networking, attach, feed,
    forgetting, identity, moderation), and the services are attributes."""

    def __init__(self, home: Home, config: NodeConfig | None = None) -> None:
        self.home = home
        self.config = config or NodeConfig()
        self._store = AsyncStore(home.db_path, check=self.config.check_storage)
        self._pool = VerifierPool(workers=self.config.verify_workers)
        self._keys = KeyHolder(home)
        self._profiles = ProfileBook()
        self._stream = EventStream(self._store, on_event=self._profiles.remember)
        self.files = FileService(self, self._store, home.path, self.config.files)
        """Files shared with circles: share, list, fetch from peers, save a copy."""
        self.challenges = ChallengeService(self, self._store, self.files)
        """Learning challenges: submissions (with shared files), peer reviews and badges."""
        self.circles = CircleService(self, self._store, challenges=self.challenges)
        """Study circles: their state, meetings, questions and report."""
        lock = HomeLock(home, role=self.config.role)
        self._attachment = Attachment(home, lock)
        self._networking = Networking(self, self._store, home, self.config, self.files, lock)
        # Writes work again: events received meanwhile were lost, so the network
        # reconciles with every linked peer now rather than at the next interval.
        self._health = WriteHealth(
            home.path,
            self._store,
            probe_interval=self.config.write_probe_interval,
            on_recovered=self._networking.storage_recovered,
        )
        self._remembered_at_open: set[bytes] = set()
        self._policy = Policy(
            self._store,
            self.config.admission,
            self._familiar_authors,
            self._networking.policy_changed,
        )
        # A block restarts networking: links with the blocked are dropped, and the
        # reconciliation index holds exactly what may be offered.
        self._moderator = Moderator(
            self._policy,
            me=self._keys.me,
            find_event=self.find_event,
            blocks_changed=self._networking.restart,
        )
        self._intake = Intake(
            self._store, self._pool, self._policy, self._health, self._stream, self._keys.me
        )
        self._feed = Feed(self, self._store, self._stream, self.circles)
        self._forgetting = Forgetting(
            self._store, self._stream, self._profiles, self._health, self._networking
        )
        self._watcher: asyncio.Task[None] | None = None

    # -- lifecycle ----------------------------------------------------------------

    async def __aenter__(self) -> Node:
        self.home.ensure()
        try:
            await self._store.__aenter__()
            await self._keys.load(self._store)
            await self._profiles.load(self._store)
            await self._policy.load()
            self._remembered_at_open = {peer.key for peer in await self.known_peers()}
            await self._stream.open()
            self._health.problem = self._store.unwritable
            await self._forgetting.forget_leftovers(self._keys.me())
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
        # The watcher first: it may be restarting networking (a block from a CLI command),
        # and a restart finishing after the stop would leave its listeners open.
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        try:
            await self.stop_network()
        finally:
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
                    await self._networking.restart()
                await self._health.probe_when_due()
            except StorageError as exc:  # a damaged page: say so, keep watching
                self._health.failed(exc)

    # -- networking (peernode.networking) and the node beside (peernode.attach) -------

    async def start_network(self) -> None:
        """Listen, announce, link and gossip, per config.network (needs an identity)."""
        if not self._attachment.attached:
            await self._networking.start()

    async def stop_network(self) -> None:
        await self._networking.stop()

    @property
    def _network(self) -> Network | None:
        return self._networking.network

    @property
    def api(self) -> ApiServer | None:
        """The local API while networking runs (its port, its streams' counters)."""
        return self._networking.api

    @property
    def online(self) -> bool:
        return self._networking.online

    @property
    def attached(self) -> bool:
        """This process uses the node another one runs on this home (see attach)."""
        return self._attachment.attached

    async def attach(self) -> NodeStatus:
        """Use the node another process runs on this home (see peernode.attach)."""
        return await self._attachment.attach()

    def home_holder(self) -> LockHolder | None:
        """The other process running this home's networked node, or None when none is."""
        return self._attachment.holder()

    async def take_over(self) -> None:
        """Ask the `peernode serve` running on this home to stop, and wait until it has
        (then start_network can run here); NodeError when it does not."""
        await self._attachment.take_over()

    async def connect(self, host: str, port: int) -> PeerStatus:
        """Link to a peer by address (when mDNS cannot find it) and keep it linked."""
        if self._attachment.attached:
            return await self._attachment.connect(host, port)
        return await self._networking.connect(host, port)

    async def diagnose(
        self,
        found: Callable[[Finding], None],
        step: Callable[[str], None],
        *,
        listen_seconds: float | None = None,
    ) -> bool:
        """The network check of `peernode doctor`, run here: each finding and step as it
        comes; True when a peer is linked or heard (peernode.net.doctor)."""
        status = await self.status()
        running = status if self.online or self.attached else None
        return await attach.diagnose(running, found, step, listen_seconds=listen_seconds)

    async def known_peers(self) -> list[KnownPeer]:
        return await self._store.known_peers()

    async def familiar_keys(self) -> set[bytes]:
        """Peers with history: remembered (linked with before) or members of my circles.
        The network keeps link slots for them that strangers cannot take."""
        remembered = [peer.key for peer in await self.known_peers()]
        return await familiar_keys(self.circles, remembered, self.public_key)

    async def _familiar_authors(self) -> Familiar:
        return await familiar_authors(self.circles, self._keys.me(), self._remembered_at_open)

    def trust_peer(self, key: bytes) -> None:
        """The learner named this peer (--peer, connect): its events are stored as a
        familiar author's (see peernode.admission)."""
        self._policy.trust(key)

    def is_blocked(self, key: bytes) -> bool:
        return self._policy.is_blocked(key)

    async def declined_ids(self) -> list[bytes]:
        return await self._policy.declined_ids()

    def hides(self, event: Event) -> bool:
        """Whether lists shown to the learner leave this event out (muted, blocked, hidden)."""
        return self._policy.hides(event)

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

    # -- identity and profiles ----------------------------------------------------

    @property
    def has_identity(self) -> bool:
        return self._keys.key is not None

    @property
    def key(self) -> SigningKey:
        return self._keys.required()

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
        if self._keys.key is not None and self.has_profile():
            raise IdentityExists(
                f"{self.home.key_path} exists; change your profile with 'peernode profile'"
            )
        self._keys.ensure(fresh=fresh)
        return await self.update_profile(name=name, learning=learning, can_help=can_help)

    def ensure_identity(self) -> SigningKey:
        """The key, created on first use (the profile can come later), but never in a
        home whose events were signed by a key that is no longer here."""
        return self._keys.ensure()

    def has_profile(self) -> bool:
        me = self._keys.me()
        return me is not None and self._profiles.get(me) is not None

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
        await self._intake.store([event])
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
        return self._keys.sign(kind, circle=circle, body=body, refs=refs, created_at=created_at)

    async def post(
        self, text: str, *, channel: str = DEFAULT_CHANNEL, reply_to: bytes | None = None
    ) -> Event:
        refs = {"reply_to": reply_to} if reply_to is not None else None
        return await self.publish(kinds.NOTE, circle=channel, body={"text": text}, refs=refs)

    async def store_signed(self, events: Sequence[Event]) -> list[Event]:
        """Store events this node signed itself (bulk import); returns the new ones."""
        return await self._intake.store(events)

    async def ingest(self, raws: Sequence[bytes], sender: bytes | None = None) -> IngestResult:
        """Verify, admit and store events received from `sender` (None: from no peer,
        the demo room); see peernode.intake."""
        return await self._intake.ingest(raws, sender)

    # -- reading ------------------------------------------------------------------

    async def feed(
        self,
        channel: str | None = None,
        *,
        limit: int | None = None,
        before: ShownKey | None = None,
        after: ShownKey | None = None,
    ) -> list[FeedEntry]:
        """Events newest last; page backwards with `before`, forwards with `after`
        (FeedEntry.key); edits and deletes applied (see peernode.feed)."""
        return await self._feed.entries(channel, limit=limit, before=before, after=after)

    async def channels(self) -> list[ChannelCount]:
        """Every channel with events, and how many."""
        return await self._store.channels()

    async def event_count(self) -> int:
        return await self._store.count()

    async def status(self) -> NodeStatus:
        """The node at a glance: live peers when online or attached, remembered ones
        otherwise."""
        attached = await self._attachment.status()
        if attached is not None:
            return attached
        me = self.my_profile() if self.has_identity else None
        known = await self.known_peers()
        return self._networking.status(me, await self.event_count(), known, self.name_of)

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
        """A FeedEntry for an event from the subscription (or one just published)."""
        return self._feed.entry(event, received_at)

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

    # -- finding, editing, deleting (peernode.feed) ------------------------------------

    async def find_event(self, ref: str | bytes, kind: str | None = None) -> Event:
        """The event whose id is `ref` (bytes, or hex: the whole id or ≥ 8 leading digits)."""
        return await lookup.find_event(self._store, ref, kind)

    async def edit(self, target: str | bytes, changes: Mapping[str, Any]) -> Event:
        """Publish new values for fields of my event (None removes an optional field)."""
        return await self._feed.edit(target, changes)

    async def delete(self, target: str | bytes, reason: str = "") -> Event:
        """Withdraw my event; the tombstone keeps it from coming back through sync."""
        return await self._feed.delete(target, reason)

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

    # -- moderation (peernode.moderation: the learner's own; nothing is signed or sent) --

    async def moderate(self, key: bytes, level: Level) -> None:
        """Mute (hide everywhere) or block (hide, neither store nor forward, no links)."""
        await self._moderator.moderate(key, level)

    async def unmoderate(self, key: bytes, level: Level) -> bool:
        """Undo a mute or a block; False when there was none."""
        return await self._moderator.unmoderate(key, level)

    async def hide(self, target: str | bytes) -> Event:
        """Hide one event from my lists (only here, only for me)."""
        return await self._moderator.hide(target)

    async def unhide(self, target: str | bytes) -> bool:
        """Show a hidden event again; False when it was not hidden."""
        return await self._moderator.unhide(target)

    async def moderation(self) -> ModerationList:
        """What I muted, blocked and hid, with names, newest first."""
        return self._moderator.listing(self.name_of)

    # -- forgetting (peernode.forgetting: the demo room's events) ------------------------

    async def keep_local(
        self, *, channels: Iterable[str] = (), authors: Iterable[bytes] = ()
    ) -> None:
        """Events in `channels` or by `authors` never leave this node (the demo room's)."""
        await self._forgetting.keep_local(channels, authors)

    async def hold_temporarily(self, authors: Iterable[bytes]) -> None:
        """These authors' events are temporary (the demo room's), see peernode.forgetting."""
        await self._forgetting.hold(authors)

    async def forget_authors(
        self, authors: Iterable[bytes], *, keep_referenced_by: bytes | None = None
    ) -> int:
        """Drop every event of `authors` but what `keep_referenced_by` refers to (the
        demo room's clean-up); how many went (see peernode.forgetting)."""
        return await self._forgetting.forget(authors, keep_referenced_by=keep_referenced_by)
