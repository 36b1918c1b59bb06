"""The typed bodies of the API: what requests carry and responses return.

Rules of this file:
- Additive only within /v1: a field may be added (clients ignore fields they do not
  know), never removed, renamed or given another meaning.
- Keys and ids are lowercase hex; times are milliseconds since the Unix epoch.
- The OpenAPI document (peernode.api.openapi) is generated from these types.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

API_VERSION = "1.0"


class ErrorDetail(msgspec.Struct):
    """What went wrong: `code` for programs, `message` (one sentence) for people."""

    code: str
    message: str


class ErrorBody(msgspec.Struct):
    """Every error response."""

    error: ErrorDetail


class Status(msgspec.Struct):
    """The node at a glance, and where its store's sequence stands."""

    api_version: str
    name: str
    key: str
    fingerprint: str
    port: int | None
    events: int
    linked_peers: int
    discovery: str
    store_id: str
    max_seq: int


class Peer(msgspec.Struct):
    """A peer: linked now, or remembered from an earlier link."""

    key: str
    fingerprint: str
    name: str
    address: str
    linked: bool
    in_sync: bool
    last_seen: int
    events_exchanged: int


class PeerList(msgspec.Struct):
    peers: list[Peer]


class EventOut(msgspec.Struct, omit_defaults=True):
    """A stored event. seq: its place in this store's sequence (see EventPage);
    raw: the signed bytes, base64, when asked for with `raw=true`."""

    id: str
    author: str
    author_name: str
    kind: str
    circle: str
    created_at: int
    received_at: int
    refs: dict[str, str]
    body: dict[str, Any]
    seq: int | None = None
    raw: str | None = None


class EventPage(msgspec.Struct):
    """Events in store order. Ask again with after_seq=next_after_seq for more; when
    store_id differs from the one you saw, the numbering was renewed (a repair): start
    again from after_seq=0."""

    store_id: str
    events: list[EventOut]
    next_after_seq: int
    more: bool


class FeedItem(msgspec.Struct):
    """A feed entry: the body as edited by its author, empty when deleted."""

    id: str
    author: str
    author_name: str
    kind: str
    circle: str
    created_at: int
    shown_at: int
    refs: dict[str, str]
    body: dict[str, Any]
    edited: bool
    deleted: bool


class FeedPage(msgspec.Struct):
    """Newest last. before: the cursor for the page before this one (null at the start)."""

    items: list[FeedItem]
    before: str | None


class NewEvent(msgspec.Struct, forbid_unknown_fields=True):
    """An event for the node to sign and publish. refs: name to event id (hex)."""

    kind: str
    circle: str = ""
    refs: dict[str, str] = msgspec.field(default_factory=dict)
    body: dict[str, Any] = msgspec.field(default_factory=dict)


class Published(msgspec.Struct):
    """The event signed and stored; it is gossiped like any other."""

    event: EventOut


class CircleBrief(msgspec.Struct):
    """A circle this node knows of."""

    circle: str
    title: str
    topic: str
    members: int
    member: bool
    updated_at: int


class CircleList(msgspec.Struct):
    circles: list[CircleBrief]


class MeetingOut(msgspec.Struct):
    """A scheduled meeting."""

    id: str
    author: str
    starts_at: int
    ends_at: int
    duration_minutes: int
    place: str
    facilitator: str | None
    facilitator_name: str | None


class CircleOut(msgspec.Struct):
    """A circle as its events say: next_meeting is the first that has not ended."""

    circle: str
    title: str
    topic: str
    description: str
    members: list[str]
    meetings: list[MeetingOut]
    next_meeting: MeetingOut | None


# -- the stream (WS /v1/stream) ---------------------------------------------------------


class Subscribe(msgspec.Struct, tag="subscribe", tag_field="type", forbid_unknown_fields=True):
    """The client's first message: which events, from after which seq (0: all)."""

    after_seq: int = 0
    circle: str | None = None
    kind: str | None = None
    author: str | None = None


class StreamHello(msgspec.Struct, tag="hello", tag_field="type"):
    """The server's first message: the store id and its newest seq now."""

    store_id: str
    max_seq: int


class StreamEvent(msgspec.Struct, tag="event", tag_field="type"):
    """One event, in store order (replayed or live alike)."""

    event: EventOut


class StreamLive(msgspec.Struct, tag="live", tag_field="type"):
    """Replay is over: everything up to `seq` was sent; what follows is live."""

    seq: int


class StreamOverflow(msgspec.Struct, tag="overflow", tag_field="type"):
    """The client fell behind and the stream closes: subscribe again with
    after_seq=resume_after_seq and nothing is missed."""

    resume_after_seq: int
    store_id: str


class StreamError(msgspec.Struct, tag="error", tag_field="type"):
    """The subscription was refused; the stream closes."""

    error: ErrorDetail


StreamMessage = StreamHello | StreamEvent | StreamLive | StreamOverflow | StreamError
ScopeName = Literal["read", "post", "files", "admin"]


class ConnectRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A peer to link to (and keep linked), when discovery cannot find it."""

    host: str
    port: int


class AnswerOut(msgspec.Struct):
    id: str
    author: str
    author_name: str
    created_at: int
    text: str


class QuestionOut(msgspec.Struct):
    """A question: status is open, answered (by someone other than the asker) or resolved."""

    id: str
    author: str
    author_name: str
    created_at: int
    title: str
    text: str
    tags: list[str]
    status: str
    answers: list[AnswerOut]
    helped: str | None


class QuestionList(msgspec.Struct):
    questions: list[QuestionOut]


class NewQuestion(msgspec.Struct, forbid_unknown_fields=True):
    """A question to ask the circle."""

    title: str
    text: str = ""
    tags: list[str] = msgspec.field(default_factory=list)


class NewAnswer(msgspec.Struct, forbid_unknown_fields=True):
    text: str


class Resolve(msgspec.Struct, forbid_unknown_fields=True):
    """Mark this node's own question resolved; answer: the id of the one that helped."""

    answer: str | None = None
    note: str = ""


class NewMeeting(msgspec.Struct, forbid_unknown_fields=True):
    """A meeting to schedule (starts_at in ms since the epoch)."""

    starts_at: int
    duration_minutes: int | None = None
    place: str = ""


class Membership(msgspec.Struct, forbid_unknown_fields=True):
    """Join or leave a circle, with an optional message."""

    message: str = ""
