"""Ports: what the packages below the node facade need of it, as typing.Protocols.

net/ and circles/ name these, never the concrete Node, so they import no node and
can be driven by a small fake in a test. The Node satisfies them structurally.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from peernode.storage.store import KnownPeer
from peernode.stream import Subscription
from peernode.verifier import Rejected
from peernode.views import NodeStatus, PeerStatus, Profile
from protocol.event import Event
from protocol.identity import SigningKey

__all__ = [
    "CircleNode",
    "ControlTarget",
    "EventSink",
    "EventSource",
    "FileNode",
    "GossipNode",
    "Identity",
    "IngestResult",
    "PeerBook",
]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What became of a batch of received events.

    declined: valid events the node chose not to store (peernode.admission): a
    stranger over its budget, a blocked author. Never the sender's fault.
    declined_unverified: raw events declined before verification, for what they claim
    (a blocked author, a stranger over a budget): not stored, forwarded nor trusted."""

    new: list[Event]
    duplicates: int
    rejected: list[Rejected]
    declined: list[Event] = field(default_factory=list)
    declined_unverified: list[bytes] = field(default_factory=list)


class Identity(Protocol):
    """Who this node is, and the names it knows."""

    @property
    def key(self) -> SigningKey: ...

    @property
    def public_key(self) -> bytes: ...

    def my_profile(self) -> Profile: ...

    def profile_of(self, key: bytes) -> Profile: ...

    def name_of(self, key: bytes, *, otherwise: str = "") -> str:
        """The newest profile's name, else `otherwise` (a name a link announced or a
        peer was remembered by), else the unnamed placeholder."""
        ...


class EventSource(Protocol):
    """The events this node may hand to peers, and those it stores from now on.

    Local-only events (the demo room's, peernode.storage.local) are in none of
    these reads: the network has no way to them."""

    async def time_index(self) -> list[tuple[int, bytes]]:
        """(created_at, id) of every event held that may leave this node, in order."""
        ...

    async def shared_events(self, ids: Sequence[bytes]) -> list[bytes]:
        """The bytes of those of `ids` held that may leave this node, in no particular order."""
        ...

    async def shared_ids(self, ids: Sequence[bytes]) -> set[bytes]:
        """Those of `ids` held that may leave this node."""
        ...

    def subscribe(self) -> Subscription: ...

    def unsubscribe(self, subscription: Subscription) -> None: ...


class EventSink(Protocol):
    """Where events received from peers go."""

    async def ingest(self, raws: Sequence[bytes], sender: bytes | None = None) -> IngestResult:
        """Verify, admit (peernode.admission) and store; never raises for a store that
        cannot write. sender: the peer they came from, whose budget strangers' events use."""
        ...

    async def declined_ids(self) -> list[bytes]:
        """Ids of events declined earlier (kept across restarts), not to be fetched yet."""
        ...


class PeerBook(Protocol):
    """The peers this node remembers across restarts (best effort: never raises)."""

    async def known_peers(self) -> list[KnownPeer]: ...

    async def remember_peer(self, key: bytes, name: str, host: str, port: int) -> None: ...

    async def familiar_keys(self) -> set[bytes]:
        """Peers with history: linked before, or members of circles this node is in."""
        ...

    async def add_exchanged(self, counts: dict[bytes, int]) -> None: ...

    def is_blocked(self, key: bytes) -> bool:
        """The learner blocked this person: never link with them."""
        ...

    def trust_peer(self, key: bytes) -> None:
        """The learner named this peer (--peer, connect): not a stranger."""
        ...


class GossipNode(Identity, EventSource, EventSink, PeerBook, Protocol):
    """Everything the networking shell (peernode.net.network.Network) needs of the node."""


class ControlTarget(Protocol):
    """What the local control API (peernode.net.control) serves."""

    async def status(self) -> NodeStatus: ...

    async def connect(self, host: str, port: int) -> PeerStatus: ...


class CircleNode(Protocol):
    """What the study-circle service (peernode.circles.service) needs of the node."""

    @property
    def has_identity(self) -> bool: ...

    @property
    def public_key(self) -> bytes: ...

    def profile_of(self, key: bytes) -> Profile: ...

    def profiles(self) -> list[Profile]: ...

    def hides(self, event: Event) -> bool:
        """Whether lists shown to the learner leave this event out (muted, hidden)."""
        ...

    async def raw_events(self, ids: Sequence[bytes]) -> list[bytes]: ...

    async def find_event(self, ref: str | bytes, kind: str | None = None) -> Event: ...

    async def latest_mine_referring(self, target: bytes, name: str) -> int: ...

    async def publish(
        self,
        kind: str,
        *,
        circle: str,
        body: Mapping[str, Any],
        refs: Mapping[str, bytes] | None = None,
        created_at: int | None = None,
    ) -> Event: ...

    async def publish_after(
        self,
        kind: str,
        circle: str,
        body: Mapping[str, Any],
        refs: Mapping[str, bytes] | None,
        after: int,
    ) -> Event: ...


class FileNode(Protocol):
    """What the file service (peernode.files.service) needs of the node."""

    @property
    def has_identity(self) -> bool: ...

    @property
    def public_key(self) -> bytes: ...

    @property
    def attached(self) -> bool:
        """This process uses the node another one runs on this home (its fetches too)."""
        ...

    def subscribe(self) -> Subscription: ...

    def unsubscribe(self, subscription: Subscription) -> None: ...

    async def in_circle(self, circle: str) -> bool:
        """Whether I am a member of `circle` (its files come to me by themselves)."""
        ...

    async def ingest(self, raws: Sequence[bytes]) -> IngestResult:
        """Verify and store events from elsewhere (a bundle brought on a USB stick)."""
        ...

    def name_of(self, key: bytes, *, otherwise: str = "") -> str: ...

    async def find_event(self, ref: str | bytes, kind: str | None = None) -> Event: ...

    async def publish(
        self,
        kind: str,
        *,
        circle: str,
        body: Mapping[str, Any],
        refs: Mapping[str, bytes] | None = None,
        created_at: int | None = None,
    ) -> Event: ...


class SharedFileRef(Protocol):
    """A file shared with a circle, as challenges name it (peernode.files.SharedFile)."""

    @property
    def id(self) -> bytes: ...


class FileShelf(Protocol):
    """What the challenge service needs of the file service: share a file, find one."""

    async def share(self, path: Path, circle: str) -> SharedFileRef: ...

    async def find(self, ref: str | bytes) -> SharedFileRef: ...
