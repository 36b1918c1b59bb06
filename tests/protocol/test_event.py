"""Signed events: round trips, tampering, wrong keys and the size limit."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peernode.storage.store import Store
from protocol import kinds
from protocol.codec import pack, unpack
from protocol.errors import DecodeError, InvalidEvent, LocalProtocolError, RemoteProtocolError
from protocol.event import (
    FORMAT_VERSION,
    SIGNING_CONTEXT,
    Event,
    claimed_author,
    create_event,
    decode_event,
    event_id,
    load_verified,
)
from protocol.identity import SigningKey, verify_signature
from protocol.limits import MAX_EVENT_BYTES

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# -- strategies ------------------------------------------------------------------

keys = st.binary(min_size=32, max_size=32).map(SigningKey.from_seed)
ids = st.binary(min_size=32, max_size=32)
timestamps = st.integers(min_value=0, max_value=2**53 - 1)
circles = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,30}", fullmatch=True)
utf8_text = st.text(st.characters(codec="utf-8"), max_size=200)
non_blank = utf8_text.filter(lambda s: bool(s.strip()))
field_names = st.from_regex(r"[a-z_][a-z0-9_]{0,15}", fullmatch=True)
ref_names = st.from_regex(r"[a-z][a-z0-9_]{0,31}", fullmatch=True)

msgpack_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | utf8_text
    | st.binary(max_size=200)
)
msgpack_values = st.recursive(
    msgpack_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(utf8_text, inner, max_size=5),
    max_leaves=20,
)


@st.composite
def notes(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {"text": draw(non_blank)}
    if draw(st.booleans()):
        body["format"] = draw(st.sampled_from(["markdown", "plain"]))
    if draw(st.booleans()):
        body["mentions"] = draw(st.lists(ids, max_size=4))
    # Fields a newer client might add must be carried along untouched.
    extra = draw(st.dictionaries(field_names, msgpack_values, max_size=3))
    body.update({f"x_{name}": value for name, value in extra.items()})
    refs = {"reply_to": draw(ids)} if draw(st.booleans()) else {}
    return {"kind": kinds.NOTE, "circle": draw(circles), "refs": refs, "body": body}


@st.composite
def profiles(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(non_blank.filter(lambda s: len(s.encode()) <= 64))
    body: dict[str, Any] = {"name": name}
    for optional in ("learning", "can_help"):
        if draw(st.booleans()):
            body[optional] = draw(utf8_text)
    return {"kind": kinds.PROFILE, "circle": "", "refs": {}, "body": body}


unknown_kind_names = st.from_regex(
    r"[a-z0-9][a-z0-9.-]{0,12}/[a-z0-9][a-z0-9_.-]{0,12}@[1-9][0-9]{0,5}", fullmatch=True
).filter(lambda kind: not kinds.is_known(kind))


@st.composite
def unknown_kinds(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "kind": draw(unknown_kind_names),
        "circle": draw(st.just("") | circles),
        "refs": draw(st.dictionaries(ref_names, ids, max_size=16)),
        "body": draw(st.dictionaries(utf8_text, msgpack_values, max_size=8)),
    }


drafts = notes() | profiles() | unknown_kinds()


def sign(key: SigningKey, draft: dict[str, Any], created_at: int) -> Event:
    return create_event(key, created_at=created_at, **draft)


def resign(key: SigningKey, content: bytes) -> bytes:
    return key.sign(SIGNING_CONTEXT + content) + content


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(tmp_path_factory.mktemp("event-store") / "events.db")
    yield store
    store.close()


# -- round trips -------------------------------------------------------------------


@SETTINGS
@given(key=keys, draft=drafts, created_at=timestamps)
def test_round_trip(key: SigningKey, draft: dict[str, Any], created_at: int) -> None:
    event = sign(key, draft, created_at)
    content = event.raw[64:]

    decoded = decode_event(event.raw)

    assert decoded == event
    assert decoded.id == hashlib.sha256(content).digest() == event_id(event.raw)
    assert decoded.author == key.public_key
    assert decoded.created_at == created_at
    assert (decoded.kind, decoded.circle) == (draft["kind"], draft["circle"])
    assert decoded.refs == draft["refs"]
    assert decoded.body == draft["body"]
    assert decoded.known_kind == kinds.is_known(draft["kind"])
    assert verify_signature(key.public_key, decoded.signature, SIGNING_CONTEXT + content)
    # The content is canonical msgpack of the fields: a re-encode gives the same bytes.
    assert pack(unpack(content, max_bytes=MAX_EVENT_BYTES)) == content
    assert load_verified(event.raw) == event


@SETTINGS
@given(key=keys, draft=unknown_kinds(), created_at=timestamps)
def test_unknown_kinds_are_stored_and_forwarded_unchanged(
    store: Store, key: SigningKey, draft: dict[str, Any], created_at: int
) -> None:
    event = decode_event(sign(key, draft, created_at).raw)
    assert not event.known_kind

    store.insert_events([event], received_at=1)

    # What we would forward to a peer is exactly the bytes we received.
    assert store.raw_by_ids([event.id]) == [event.raw]
    assert decode_event(store.raw_by_ids([event.id])[0]) == event


def test_signing_is_deterministic_so_ids_are_stable() -> None:
    key = SigningKey.from_seed(bytes(range(32)))
    draft = {"kind": kinds.NOTE, "circle": "lobby", "refs": {}, "body": {"text": "hi"}}
    assert sign(key, draft, 5).raw == sign(key, draft, 5).raw
    assert sign(key, draft, 5).id != sign(key, draft, 6).id


# -- tampering -------------------------------------------------------------------


def _flip(raw: bytes, index: int, mask: int) -> bytes:
    return raw[:index] + bytes([raw[index] ^ mask]) + raw[index + 1 :]


def _assert_rejected(raw: bytes, index: int) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        decode_event(raw)
    assert isinstance(info.value, DecodeError | InvalidEvent)
    if index < 64:
        # The content is intact, so it is precisely the signature that fails.
        assert isinstance(info.value, InvalidEvent)
        assert info.value.field == "signature"


@SETTINGS
@given(key=keys, draft=drafts, created_at=timestamps, data=st.data())
def test_any_flipped_byte_is_rejected(
    key: SigningKey, draft: dict[str, Any], created_at: int, data: st.DataObject
) -> None:
    raw = sign(key, draft, created_at).raw
    index = data.draw(st.integers(0, len(raw) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="mask")
    _assert_rejected(_flip(raw, index, mask), index)


@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF])
def test_every_byte_position_is_protected(mask: int) -> None:
    key = SigningKey.from_seed(b"\x07" * 32)
    events = [
        create_event(
            key,
            kind=kinds.NOTE,
            circle="algebra",
            body={"text": "eigenvalues!", "format": "plain", "mentions": [b"\x01" * 32]},
            refs={"reply_to": b"\x02" * 32},
            created_at=1_700_000_000_000,
        ),
        create_event(
            key,
            kind=kinds.PROFILE,
            circle="",
            body={"name": "Ana", "learning": "rust"},
            created_at=1,
        ),
        create_event(
            key,
            kind="other.app/poll@3",
            circle="",
            body={"question": "tea?", "options": ["yes", "no"], "n": -1.5},
            refs={"about": b"\x03" * 32},
            created_at=2**53 - 1,
        ),
    ]
    for event in events:
        for index in range(len(event.raw)):
            _assert_rejected(_flip(event.raw, index, mask), index)


# -- wrong keys --------------------------------------------------------------------


@SETTINGS
@given(author=keys, forger=keys, draft=drafts, created_at=timestamps)
def test_content_signed_by_another_key_is_rejected(
    author: SigningKey, forger: SigningKey, draft: dict[str, Any], created_at: int
) -> None:
    content = sign(author, draft, created_at).raw[64:]
    forged = resign(forger, content)
    if forger.public_key == author.public_key:
        assert decode_event(forged).author == author.public_key
        return
    with pytest.raises(InvalidEvent) as info:
        decode_event(forged)
    assert info.value.field == "signature"


def test_signature_without_the_context_prefix_is_rejected() -> None:
    key = SigningKey.generate()
    content = create_event(key, kind=kinds.NOTE, circle="c", body={"text": "x"}, created_at=1).raw[
        64:
    ]
    with pytest.raises(InvalidEvent) as info:
        decode_event(key.sign(content) + content)
    assert info.value.field == "signature"


def test_claiming_another_author_is_rejected() -> None:
    mallory, victim = SigningKey.generate(), SigningKey.generate()
    content = pack([1, victim.public_key, 1, kinds.NOTE, "c", {}, {"text": "I am victim"}])
    with pytest.raises(InvalidEvent) as info:
        decode_event(resign(mallory, content))
    assert info.value.field == "signature"
    assert decode_event(resign(victim, content)).author == victim.public_key


# -- size --------------------------------------------------------------------------


def _unknown_with_padding(key: SigningKey, size: int) -> list[Any]:
    return [1, key.public_key, 1, "test/pad@1", "", {}, {"pad": b"\x00" * size}]


def _raw_of_exact_size(key: SigningKey, total: int) -> bytes:
    fields = _unknown_with_padding(key, 60_000)
    padding = 60_000 + total - len(resign(key, pack(fields)))
    raw = resign(key, pack(_unknown_with_padding(key, padding)))
    assert len(raw) == total
    return raw


def test_size_limit_is_exact() -> None:
    key = SigningKey.generate()
    at_limit = _raw_of_exact_size(key, MAX_EVENT_BYTES)
    assert decode_event(at_limit).raw == at_limit

    over = _raw_of_exact_size(key, MAX_EVENT_BYTES + 1)
    with pytest.raises(InvalidEvent) as info:
        decode_event(over)
    assert info.value.field == "event"
    assert str(MAX_EVENT_BYTES) in str(info.value)


def test_far_oversized_bytes_are_rejected_before_decoding() -> None:
    with pytest.raises(InvalidEvent) as info:
        decode_event(b"\x00" * 64 + b"\xc6\xff\xff\xff\xff" + b"\x00" * (1 << 20))
    assert info.value.field == "event"


def test_creating_an_oversized_event_is_a_local_error() -> None:
    key = SigningKey.generate()
    with pytest.raises(LocalProtocolError, match="limit"):
        create_event(
            key, kind="test/pad@1", circle="", body={"pad": b"\x00" * MAX_EVENT_BYTES}, created_at=1
        )


def _nested(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


def test_nesting_up_to_the_limit_is_created_and_decoded() -> None:
    # content (level 1) > body (2) > 14 lists: 16 levels, the most allowed.
    event = create_event(
        SigningKey.generate(), kind="x/y@1", circle="", body={"deep": _nested(14)}, created_at=1
    )
    assert decode_event(event.raw).body == {"deep": _nested(14)}


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        ({"kind": kinds.NOTE, "circle": "c", "body": {"text": "bad \udcff"}}, "body.text"),
        ({"kind": "x/y@1", "circle": "", "body": {"k\udcff": 1}}, "content"),
        ({"kind": "x/y@1", "circle": "", "body": {"k": {1, 2}}}, "content"),
        ({"kind": "x/y@1", "circle": "", "body": {"k": 2**64}}, "content"),
        ({"kind": kinds.NOTE, "circle": "Lobby", "body": {"text": "x"}}, "circle"),
        # What a receiver would refuse is refused at creation too.
        ({"kind": "x/y@1", "circle": "", "body": {"deep": _nested(15)}}, "content"),
        ({"kind": "x/y@1", "circle": "", "body": {"long": list(range(4097))}}, "content"),
        ({"kind": "x/y@1", "circle": "", "body": {"m": {b"bytes key": 1}}}, "content"),
    ],
)
def test_creating_from_unencodable_input_is_a_local_error(
    draft: dict[str, Any], field: str
) -> None:
    with pytest.raises(LocalProtocolError) as info:
        create_event(SigningKey.generate(), created_at=1, **draft)
    assert str(info.value).startswith(f"{field}: ")


def test_event_repr_hides_no_secret_and_key_repr_hides_the_seed() -> None:
    key = SigningKey.from_seed(b"\x42" * 32)
    assert (b"\x42" * 32).hex() not in repr(key)
    assert SigningKey.from_seed(key.seed()).public_key == key.public_key
    with pytest.raises(LocalProtocolError):
        SigningKey.from_seed(b"short")


def test_what_an_event_claims_is_read_without_verifying_it() -> None:
    key = SigningKey.from_seed(b"\x07" * 32)
    event = create_event(
        key, kind="peernode/note@1", circle="lobby", body={"text": "a"}, created_at=5
    )
    forged = bytes(64) + event.raw[64:]
    assert claimed_author(event.raw) == (key.public_key, "peernode/note@1")
    assert claimed_author(forged) == (key.public_key, "peernode/note@1")  # unverified
    content = pack([FORMAT_VERSION + 1, key.public_key, 5, "peernode/note@1", "lobby", {}, {}])
    for malformed in (b"", bytes(64), bytes(64) + b"\x93\x01", bytes(64) + content):
        assert claimed_author(malformed) is None
