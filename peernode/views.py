"""Plain data the CLI and the TUI show: no SQL, no widgets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from peernode.addresses import parse_address
from peernode.clock import MARK_TEXT, ClockMark, ShownKey, clock_mark, now_ms, shown_at
from peernode.home import LockHolder
from peernode.text import plural
from protocol import kinds
from protocol.errors import InvalidEvent
from protocol.event import Event, check_circle
from protocol.handshake import DEFAULT_NETWORK_ID
from protocol.identity import fingerprint
from protocol.kinds.circles import check_resource_link
from protocol.wire import SPEC_VERSION

__all__ = [
    "CHANGE_KINDS",
    "CIRCLE_KINDS",
    "FILE_KIND",
    "MARK_TEXT",
    "NOTE_KIND",
    "PROFILE_KIND",
    "FeedEntry",
    "Finding",
    "LockHolder",
    "NodeStatus",
    "PeerStatus",
    "Profile",
    "ShownKey",
    "channel_problem",
    "link_problem",
    "now_ms",
    "parse_address",
    "to_jsonable",
]
"""With the names the TUI needs of lower modules: it imports only the facade, views and errors."""

if TYPE_CHECKING:
    from peernode.storage.store import KnownPeer


@dataclass(frozen=True, slots=True)
class Profile:
    """The newest profile a learner published (or a placeholder if none yet)."""

    key: bytes
    name: str
    learning: str = ""
    can_help: str = ""
    updated_at: int = 0

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)

    @classmethod
    def from_event(cls, event: Event) -> Profile:
        return cls(
            key=event.author,
            name=str(event.body.get("name", "")),
            learning=str(event.body.get("learning") or ""),
            can_help=str(event.body.get("can_help") or ""),
            updated_at=event.created_at,
        )

    @classmethod
    def unnamed(cls, key: bytes) -> Profile:
        return cls(key=key, name=f"anon-{fingerprint(key)[:4]}")

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key.hex(),
            "fingerprint": self.fingerprint,
            "name": self.name,
            "learning": self.learning,
            "can_help": self.can_help,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One event ready to show, with its author's current name.

    received_at: when this node stored it, by its own clock.
    edited_body: the body after the author's own edits (None if never edited).
    deleted: the author deleted it; its content must not be shown anywhere.
    """

    event: Event
    author_name: str
    received_at: int
    edited_body: Mapping[str, Any] | None = None
    deleted: bool = False

    @property
    def shown_at(self) -> int:
        """The time to show and order by: the claim, bounded by its arrival (see clock)."""
        return shown_at(self.event.created_at, self.received_at)

    @property
    def clock(self) -> ClockMark | None:
        """The author's clock, when it was visibly wrong: "ahead" or "unset"; else None."""
        return clock_mark(self.event.created_at, self.shown_at)

    @property
    def key(self) -> ShownKey:
        """Its place in a feed, and the cursor to page from it."""
        return (self.shown_at, self.event.created_at, self.event.id)

    @property
    def known(self) -> bool:
        return kinds.is_known(self.event.kind)

    @property
    def edited(self) -> bool:
        return self.edited_body is not None

    @property
    def body(self) -> Mapping[str, Any]:
        """What to show: {} when deleted, the edited body when edited."""
        if self.deleted:
            return {}
        return self.edited_body if self.edited_body is not None else self.event.body

    def to_json(self) -> dict[str, Any]:
        event = self.event
        return {
            "id": event.id.hex(),
            "author": event.author.hex(),
            "author_name": self.author_name,
            "kind": event.kind,
            "circle": event.circle,
            "created_at": event.created_at,
            "received_at": self.received_at,
            "shown_at": self.shown_at,
            "clock": self.clock,
            "refs": {name: target.hex() for name, target in event.refs.items()},
            "body": to_jsonable(self.body),
            "edited": self.edited,
            "deleted": self.deleted,
        }


def to_jsonable(value: Any) -> Any:
    """msgpack values as JSON values: bytes become hex strings."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(name): to_jsonable(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class PeerStatus:
    """One peer as this node sees it.

    linked: a verified, encrypted link is up now. in_sync: the last
    reconciliation with this peer found nothing missing either way and nothing
    has changed since. events_exchanged: events received from plus sent to it.
    """

    key: bytes
    name: str
    address: str
    linked: bool
    in_sync: bool
    last_seen: int
    events_exchanged: int
    demo: bool = False

    @classmethod
    def remembered(cls, known: KnownPeer, name: str) -> PeerStatus:
        """A peer known from an earlier link, not linked now."""
        return cls(
            key=known.key,
            name=name,
            address=f"{known.host}:{known.port}",
            linked=False,
            in_sync=False,
            last_seen=known.last_seen,
            events_exchanged=known.events_exchanged,
        )

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PeerStatus:
        """From to_json(); KeyError, TypeError or ValueError when it is not that."""
        return cls(
            key=bytes.fromhex(data["key"]),
            name=str(data["name"]),
            address=str(data["address"]),
            linked=bool(data["linked"]),
            in_sync=bool(data["in_sync"]),
            last_seen=int(data["last_seen"]),
            events_exchanged=int(data["events_exchanged"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key.hex(),
            "fingerprint": self.fingerprint,
            "name": self.name,
            "address": self.address,
            "linked": self.linked,
            "in_sync": self.in_sync,
            "last_seen": self.last_seen,
            "events_exchanged": self.events_exchanged,
        }


@dataclass(frozen=True, slots=True)
class SkippedPeer:
    """A node heard on the LAN that this one does not link to, and why."""

    name: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """The node at a glance: what `peernode status` and the TUI status bar show."""

    key: bytes
    name: str
    port: int | None
    events: int
    peers: tuple[PeerStatus, ...]
    discovery: str = "off"
    network: str = DEFAULT_NETWORK_ID.decode()
    """The network id (only nodes with the same one can link), as text."""
    spec: str = SPEC_VERSION
    skipped: tuple[SkippedPeer, ...] = ()

    @property
    def linked(self) -> int:
        return sum(1 for peer in self.peers if peer.linked)

    @property
    def in_sync(self) -> int:
        return sum(1 for peer in self.peers if peer.linked and peer.in_sync)

    @property
    def sync_summary(self) -> str:
        """'in sync with N of M peers', counting the M peers linked now (one remembered
        but offline cannot be in sync, and would keep it from ever reading all); with
        none linked, 'no one else here yet' or, when peers are remembered, 'no peer
        online now'."""
        if self.linked:
            return f"in sync with {self.in_sync} of {plural(self.linked, 'peer')}"
        return "no peer online now" if self.peers else "no one else here yet"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NodeStatus:
        """From to_json() (what the control API answers); KeyError, TypeError or
        ValueError when it is not that."""
        port = data["port"]
        return cls(
            key=bytes.fromhex(data["key"]),
            name=str(data["name"]),
            port=None if port is None else int(port),
            events=int(data["events"]),
            peers=tuple(PeerStatus.from_json(peer) for peer in data["peers"]),
            discovery=str(data.get("discovery", "off")),
            network=str(data.get("network", DEFAULT_NETWORK_ID.decode())),
            spec=str(data.get("spec", SPEC_VERSION)),
            skipped=tuple(
                SkippedPeer(str(peer["name"]), str(peer["reason"]))
                for peer in data.get("skipped", ())
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key.hex(),
            "fingerprint": fingerprint(self.key),
            "name": self.name,
            "port": self.port,
            "events": self.events,
            "discovery": self.discovery,
            "network": self.network,
            "spec": self.spec,
            "peers": [peer.to_json() for peer in self.peers],
            "skipped": [peer.to_json() for peer in self.skipped],
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the network check found: a plain sentence and, for a problem, what to
    try next (`peernode doctor` prints them, the TUI's network check shows them)."""

    sentence: str
    next_step: str = ""
    problem: bool = False


# -- what a UI checks or tells apart before it calls the node ----------------------------

NOTE_KIND: Final = kinds.NOTE
"""A note: the feed shows its text."""
PROFILE_KIND: Final = kinds.PROFILE
"""A learner's profile: the names shown may change."""
FILE_KIND: Final = kinds.FILE
"""A shared file: the feed opens its card (Get, Save, Open)."""
CHANGE_KINDS: Final = frozenset({kinds.EDIT, kinds.DELETE})
"""Edits and deletes: they change an event shown already rather than show as one."""
CIRCLE_KINDS: Final = kinds.CIRCLE_KINDS | {kinds.FILE}
"""The kinds of a study circle: its state (or its files) change when one of them arrives."""


def channel_problem(name: str) -> str | None:
    """Why `name` cannot name a channel (nor the study circle in it), or None if it can."""
    if not name:
        return "must not be empty"
    try:
        check_circle(name)
    except InvalidEvent as exc:
        return exc.reason
    return None


def link_problem(url: str) -> str | None:
    """Why `url` cannot be a study circle's resource link, or None if it can."""
    try:
        check_resource_link({"url": url})
    except InvalidEvent as exc:
        return exc.reason
    return None
