"""Signed events: the one unit of content, signed over its exact bytes.

Rules of this file:
- The wire form is ``signature (64 bytes) || content`` where content is one
  msgpack array; the id is SHA-256 of content. Nothing is ever re-encoded
  before it is verified: we verify the bytes we received.
- Decoding checks, in order: size, bounded msgpack decode, envelope shape,
  signature, then the rules of the kind. Any failure raises InvalidEvent or
  DecodeError naming the field, and no Event object exists for bad bytes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from protocol import kinds
from protocol.codec import pack, peek_array, unpack
from protocol.errors import DecodeError, InvalidEvent, LocalProtocolError
from protocol.identity import PUBLIC_KEY_BYTES, SIGNATURE_BYTES, SigningKey, verify_signature
from protocol.limits import (
    MAX_CIRCLE_CHARS,
    MAX_EVENT_BYTES,
    MAX_KIND_CHARS,
    MAX_REFS,
    MAX_TIMESTAMP_MS,
)

FORMAT_VERSION: Final = 1
SIGNING_CONTEXT: Final = b"peernode-event-v1\x00"
"""Prefixed to the content before signing, so an event signature can never be
replayed as a signature of anything else the protocol signs."""
ID_BYTES: Final = 32

_KIND_RE: Final = re.compile(r"[a-z0-9][a-z0-9.-]*/[a-z0-9][a-z0-9_.-]*@[1-9][0-9]{0,5}")
_CIRCLE_RE: Final = re.compile(r"[a-z0-9][a-z0-9._-]*")
_REF_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,31}")
_CONTENT_FIELDS: Final = 7


@dataclass(frozen=True, slots=True)
class Event:
    """A verified event.

    id: SHA-256 of the content bytes. author: the signer's Ed25519 public key.
    created_at: the author's clock, ms since the Unix epoch (a claim, not a fact).
    kind: namespaced, versioned type such as ``peernode/note@1``.
    circle: the circle it belongs to, or "" for events of no circle (profiles).
    refs: named links to other events by id (``reply_to``, ``edit_of``, ...).
    body: the kind's fields. raw: the exact bytes received or created.
    """

    id: bytes
    author: bytes
    created_at: int
    kind: str
    circle: str
    refs: Mapping[str, bytes]
    body: Mapping[str, Any]
    raw: bytes = field(repr=False)

    @property
    def signature(self) -> bytes:
        return self.raw[:SIGNATURE_BYTES]

    @property
    def known_kind(self) -> bool:
        return kinds.is_known(self.kind)


def event_id(raw: bytes) -> bytes:
    """The id of an encoded event, computed without verifying it (for dedup)."""
    return hashlib.sha256(raw[SIGNATURE_BYTES:]).digest()


def claimed_author(raw: bytes) -> tuple[bytes, str] | None:
    """The author and kind an encoded event claims, read WITHOUT verifying it (a few
    microseconds); None when they cannot be read. Only for declining what would not be
    stored whoever signed it."""
    if len(raw) <= SIGNATURE_BYTES:
        return None
    head = peek_array(raw[SIGNATURE_BYTES:], 4, max_bytes=MAX_EVENT_BYTES)
    if head is None:
        return None
    version, author, _, kind = head
    if version != FORMAT_VERSION or type(author) is not bytes or type(kind) is not str:
        return None
    if len(author) != PUBLIC_KEY_BYTES:
        return None
    return author, kind


def check_draft(
    *,
    author: bytes,
    kind: str,
    circle: str,
    body: Mapping[str, Any],
    created_at: int,
    refs: Mapping[str, bytes] | None = None,
) -> None:
    """Raise LocalProtocolError if these fields could not make a valid event."""
    fields = [FORMAT_VERSION, author, created_at, kind, circle, dict(refs or {}), dict(body)]
    try:
        _check_fields(fields)
    except InvalidEvent as exc:
        raise LocalProtocolError(str(exc)) from exc


def create_event(
    key: SigningKey,
    *,
    kind: str,
    circle: str,
    body: Mapping[str, Any],
    created_at: int,
    refs: Mapping[str, bytes] | None = None,
) -> Event:
    """Validate, encode and sign a new event; raises LocalProtocolError on bad input."""
    content_fields = [
        FORMAT_VERSION,
        key.public_key,
        created_at,
        kind,
        circle,
        dict(refs or {}),
        dict(body),
    ]
    try:
        _check_fields(content_fields)
    except InvalidEvent as exc:
        raise LocalProtocolError(str(exc)) from exc
    try:
        content = pack(content_fields)
    except (TypeError, ValueError, OverflowError) as exc:  # UnicodeEncodeError is a ValueError
        raise LocalProtocolError(f"content: cannot be encoded ({exc})") from exc
    size = len(content) + SIGNATURE_BYTES
    if size > MAX_EVENT_BYTES:
        raise LocalProtocolError(f"event is {size} bytes encoded, the limit is {MAX_EVENT_BYTES}")
    try:
        # Never create what decode_event would refuse (depth, lengths, key types),
        # and build the Event from the decoded fields, exactly as a receiver will.
        decoded = unpack(content, max_bytes=MAX_EVENT_BYTES)
    except DecodeError as exc:
        raise LocalProtocolError(f"content: {exc}") from exc
    raw = key.sign(SIGNING_CONTEXT + content) + content
    return _build(raw, content, decoded)


def decode_event(raw: bytes) -> Event:
    """Check and verify received bytes; return the Event or raise.

    Raises DecodeError for bytes that are not bounded, well-formed msgpack and
    InvalidEvent (with the offending field) for every other broken rule.
    """
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidEvent("event", f"{len(raw)} bytes, the limit is {MAX_EVENT_BYTES}")
    if len(raw) <= SIGNATURE_BYTES:
        raise InvalidEvent("event", f"{len(raw)} bytes is too short to hold a signature")
    content = raw[SIGNATURE_BYTES:]
    fields = unpack(content, max_bytes=MAX_EVENT_BYTES)
    _check_envelope(fields)
    if not verify_signature(fields[1], raw[:SIGNATURE_BYTES], SIGNING_CONTEXT + content):
        raise InvalidEvent("signature", "does not verify against the author key")
    _check_kind_rules(fields)
    return _build(raw, content, fields)


def _build(raw: bytes, content: bytes, fields: list[Any]) -> Event:
    return Event(
        id=hashlib.sha256(content).digest(),
        author=fields[1],
        created_at=fields[2],
        kind=fields[3],
        circle=fields[4],
        refs=fields[5],
        body=fields[6],
        raw=raw,
    )


def _check_fields(fields: list[Any]) -> None:
    _check_envelope(fields)
    _check_kind_rules(fields)


def _check_envelope(fields: Any) -> None:
    """The shape every event has, whatever its kind."""
    if not isinstance(fields, list):
        raise InvalidEvent("content", "must be a msgpack array")
    if len(fields) != _CONTENT_FIELDS:
        raise InvalidEvent("content", f"must have {_CONTENT_FIELDS} elements, has {len(fields)}")
    version, author, created_at, kind, circle, refs, body = fields
    if type(version) is not int or version != FORMAT_VERSION:
        raise InvalidEvent("version", f"must be {FORMAT_VERSION}, got {version!r}")
    if not isinstance(author, bytes) or len(author) != PUBLIC_KEY_BYTES:
        raise InvalidEvent("author", f"must be {PUBLIC_KEY_BYTES} bytes (an Ed25519 public key)")
    if not isinstance(created_at, int) or isinstance(created_at, bool):
        raise InvalidEvent("created_at", "must be an integer (ms since the Unix epoch)")
    if not 0 <= created_at <= MAX_TIMESTAMP_MS:
        raise InvalidEvent("created_at", f"must be between 0 and {MAX_TIMESTAMP_MS}")
    if not isinstance(kind, str) or len(kind) > MAX_KIND_CHARS or not _KIND_RE.fullmatch(kind):
        raise InvalidEvent("kind", "must look like 'namespace/name@version', at most 64 chars")
    check_circle(circle)
    _check_refs(refs)
    if not isinstance(body, dict):
        raise InvalidEvent("body", "must be a map")
    if not all(isinstance(name, str) for name in body):
        raise InvalidEvent("body", "field names must be strings")


def check_circle(circle: Any) -> None:
    """The rule of an event's circle field (the channel it is in), for those who ask a
    person for a name before they make an event: InvalidEvent if it breaks the rule."""
    if not isinstance(circle, str) or len(circle) > MAX_CIRCLE_CHARS:
        raise InvalidEvent("circle", f"must be a string of at most {MAX_CIRCLE_CHARS} chars")
    if circle and not _CIRCLE_RE.fullmatch(circle):
        raise InvalidEvent(
            "circle",
            "must be lowercase letters, digits, '.', '-' or '_', starting with a letter or digit",
        )


def _check_refs(refs: Any) -> None:
    if not isinstance(refs, dict):
        raise InvalidEvent("refs", "must be a map")
    if len(refs) > MAX_REFS:
        raise InvalidEvent("refs", f"at most {MAX_REFS} references, got {len(refs)}")
    for name, target in refs.items():
        if not isinstance(name, str) or not _REF_RE.fullmatch(name):
            raise InvalidEvent("refs", f"bad reference name {name!r}")
        if not isinstance(target, bytes) or len(target) != ID_BYTES:
            raise InvalidEvent(f"refs.{name}", f"must be a {ID_BYTES}-byte event id")


def _check_kind_rules(fields: list[Any]) -> None:
    kinds.validate(kind=fields[3], circle=fields[4], refs=fields[5], body=fields[6])


def load_verified(raw: bytes) -> Event:
    """Rebuild an Event from bytes this node verified before it stored them.

    Skips the signature check (the costly part) but still decodes within the
    limits, so a damaged database yields DecodeError rather than garbage.
    """
    content = raw[SIGNATURE_BYTES:]
    fields = unpack(content, max_bytes=MAX_EVENT_BYTES)
    _check_envelope(fields)
    return _build(raw, content, fields)
