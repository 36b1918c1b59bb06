"""The node's values as API models: events, feed entries, peers, meetings."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from peernode.api.models import EventOut, FeedItem, MeetingOut, Peer

__all__ = ["EventOut", "event_out", "feed_item", "meeting_out", "peer_out", "stored_out"]
from peernode.circles.model import Meeting
from peernode.storage import StoredEvent
from peernode.views import FeedEntry, PeerStatus, to_jsonable
from protocol.event import Event, load_verified

NameOf = Callable[[bytes], str]


def event_out(
    event: Event, name_of: NameOf, *, received_at: int, seq: int | None, raw: bool = False
) -> EventOut:
    return EventOut(
        id=event.id.hex(),
        author=event.author.hex(),
        author_name=name_of(event.author),
        kind=event.kind,
        circle=event.circle,
        created_at=event.created_at,
        received_at=received_at,
        refs={name: target.hex() for name, target in event.refs.items()},
        body=_body(event.body),
        seq=seq,
        raw=base64.b64encode(event.raw).decode() if raw else None,
    )


def stored_out(row: StoredEvent, name_of: NameOf) -> EventOut:
    return event_out(load_verified(row.raw), name_of, received_at=row.received_at, seq=row.seq)


def feed_item(entry: FeedEntry) -> FeedItem:
    event = entry.event
    return FeedItem(
        id=event.id.hex(),
        author=event.author.hex(),
        author_name=entry.author_name,
        kind=event.kind,
        circle=event.circle,
        created_at=event.created_at,
        shown_at=entry.shown_at,
        refs={name: target.hex() for name, target in event.refs.items()},
        body=_body(entry.body),
        edited=entry.edited,
        deleted=entry.deleted,
    )


def peer_out(peer: PeerStatus) -> Peer:
    return Peer(
        key=peer.key.hex(),
        fingerprint=peer.fingerprint,
        name=peer.name,
        address=peer.address,
        linked=peer.linked,
        in_sync=peer.in_sync,
        last_seen=peer.last_seen,
        events_exchanged=peer.events_exchanged,
    )


def meeting_out(meeting: Meeting, name_of: NameOf) -> MeetingOut:
    facilitator = meeting.facilitator
    return MeetingOut(
        id=meeting.id.hex(),
        author=meeting.author.hex(),
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        duration_minutes=meeting.duration_minutes,
        place=meeting.place,
        facilitator=facilitator.hex() if facilitator else None,
        facilitator_name=name_of(facilitator) if facilitator else None,
    )


def _body(body: Any) -> dict[str, Any]:
    value = to_jsonable(body)
    return value if isinstance(value, dict) else {}
