"""What the engine asks its shell to do, and what it reports about a peer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from protocol.wire import PeerAddress


@dataclass(frozen=True, slots=True)
class Send:
    """Send one encoded wire message (one frame) on the link to `peer`."""

    peer: bytes
    data: bytes


@dataclass(frozen=True, slots=True)
class Dial:
    """Open a link; then call link_up (on success) or dial_failed."""

    address: PeerAddress


@dataclass(frozen=True, slots=True)
class Close:
    """Close the link to `peer`, then call link_down."""

    peer: bytes
    reason: str


@dataclass(frozen=True, slots=True)
class Verify:
    """Verify these unknown events (deduplicated by id), store the good ones, then call
    stored(peer, new) once (even with none) and rejected(peer, bad_count) if bad_count."""

    peer: bytes
    raws: list[bytes]


@dataclass(frozen=True, slots=True)
class SendStored:
    """Send `raws` (events the engine holds in memory) and the events with these `ids`
    loaded from the store, as wire.events_frames(..., config.max_frame_bytes).

    Bulk: answers to Want and Graft, and pushes of more than URGENT_PUSH_FRAMES frames.
    The shell sends them after other messages, as the link takes them (never dropping
    them or closing the link for their sake). Answers (`push` False) are what a peer
    makes us send by asking: the shell paces them by its serving budget; pushes are ours
    to send (bounded by what their senders may push to us)."""

    peer: bytes
    ids: list[bytes]
    raws: list[bytes] = field(default_factory=list)
    push: bool = False


Action: TypeAlias = Send | Dial | Close | Verify | SendStored


@dataclass(frozen=True, slots=True)
class PeerView:
    """A snapshot of one link, for the UI and the tests."""

    key: bytes
    linked: bool  # the link is active (accepted by both sides)
    outbound: bool  # we dialed it
    in_sync: bool  # last session found no difference and nothing is being fetched
    last_seen: float
    events_received: int  # event payloads received, duplicates included
    events_sent: int  # event payloads sent, including ones handed to SendStored
    address: PeerAddress | None  # where it listens, when known
    name: str  # from its Hello
    eager: bool  # Plumtree: we push full events to it
    wants_outstanding: int  # ids requested and not yet stored
    wants_queued: int  # ids waiting for room in the want window
    stalled_since: float | None = None  # bytes have waited since, little taken (not reading?)
