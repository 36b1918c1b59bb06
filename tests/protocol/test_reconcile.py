"""Range-based set reconciliation: exact results, protocol figures, limits and hostile peers."""

from __future__ import annotations

import contextlib
import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from protocol.errors import DecodeError, LocalProtocolError, ProtocolError, RemoteProtocolError
from protocol.reconcile import ItemIndex, Reconciler, ReconcileResult
from protocol.reconcile.codec import (
    INFINITY,
    MIN_BOUND,
    Mode,
    Writer,
    decode,
    encode_bound,
    encode_varint,
)
from protocol.reconcile.session import MAX_LEARNED

BASE_TS = 1_700_000_000_000
HEADER = b"\x01" + encode_varint(64 * 1024)  # version 1, limit 64 KiB


@dataclass
class Session:
    have: list[bytes] = field(default_factory=list)
    need: list[bytes] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    @property
    def round_trips(self) -> int:
        return math.ceil(len(self.sizes) / 2)

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes)


def reconcile(
    mine: ItemIndex,
    theirs: ItemIndex,
    *,
    limit: int = 64 * 1024,
    between: Callable[[int], None] | None = None,
) -> Session:
    """Run a whole session in memory; `between(round)` may change the indexes meanwhile."""
    initiator = Reconciler(mine, max_message_bytes=limit)
    responder = Reconciler(theirs, max_message_bytes=limit)
    session = Session()
    message: bytes | None = initiator.initiate()
    while message is not None:
        session.sizes.append(len(message))
        reply = responder.receive(message).reply
        assert reply is not None
        session.sizes.append(len(reply))
        if between is not None:
            between(len(session.sizes))
        result = initiator.receive(reply)
        session.have += result.have
        session.need += result.need
        message = result.reply
    # The responder cannot always know: its last reply may have been answered by silence.
    assert initiator.done
    assert max(session.sizes) <= limit
    return session


def make_items(count: int, seed: int, *, span_ms: int = 90 * 86_400_000) -> list[tuple[int, bytes]]:
    rnd = random.Random(seed)
    return [(BASE_TS + rnd.randrange(span_ms), rnd.randbytes(32)) for _ in range(count)]


def ids(items: list[tuple[int, bytes]]) -> set[bytes]:
    return {event_id for _, event_id in items}


# -- the index ---------------------------------------------------------------------------


def test_index_add_contains_len() -> None:
    index = ItemIndex([(5, b"a" * 32)])
    assert index.add(3, b"b" * 32)
    assert not index.add(9, b"b" * 32)  # the id decides, not the timestamp
    assert index.add_many([(1, b"c" * 32), (1, b"c" * 32), (2, b"a" * 32)]) == 1
    assert len(index) == 3
    assert b"c" * 32 in index
    assert b"d" * 32 not in index
    assert [] not in index  # unhashable: simply absent


def test_index_order_and_fingerprints_do_not_depend_on_insertion_order() -> None:
    items = make_items(500, 1, span_ms=50)
    bulk = ItemIndex(items)
    one_by_one = ItemIndex()
    for created_at, event_id in reversed(items):
        one_by_one.add(created_at, event_id)
        one_by_one.position(MIN_BOUND)  # force a merge after every add
    assert bulk.ids(0, 500) == one_by_one.ids(0, 500) == [i for _, i in sorted(items)]
    assert bulk.fingerprint(17, 300) == one_by_one.fingerprint(17, 300)


def test_fingerprint_is_sha256_of_sum_and_count() -> None:
    empty = ItemIndex()
    assert empty.fingerprint(0, 0) == hashlib.sha256(bytes(32) + b"\x00").digest()[:16]
    a, b = (1).to_bytes(32, "little"), ((1 << 256) - 1).to_bytes(32, "little")
    index = ItemIndex([(1, a), (2, b)])  # 1 + (2^256 - 1) wraps to 0
    assert index.fingerprint(0, 2) == hashlib.sha256(bytes(32) + b"\x02").digest()[:16]


@pytest.mark.parametrize(
    ("created_at", "event_id"),
    [
        (-1, b"a" * 32),
        (1 << 53, b"a" * 32),
        (1 << 63, b"a" * 32),
        (True, b"a" * 32),
        ("1", b"a" * 32),
        (1, b"a" * 31),
    ],
)
def test_index_rejects_bad_items(created_at: object, event_id: object) -> None:
    with pytest.raises(LocalProtocolError):
        ItemIndex().add(created_at, event_id)  # type: ignore[arg-type]


# -- exact results -----------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    shared=st.integers(0, 3000),
    only_mine=st.integers(0, 300),
    only_theirs=st.integers(0, 300),
    span_ms=st.sampled_from([1, 5, 100, 10**9]),  # 1 and 5: nearly all timestamps collide
    limit=st.sampled_from([256, 700, 4096, 64 * 1024]),
)
# The responder's full reply handed back, as its last range, the very range the
# initiator had sent, holding none of it: a split of nothing dropped 4 ids.
@example(seed=0, shared=0, only_mine=108, only_theirs=121, span_ms=10**9, limit=4096)
def test_finds_exact_symmetric_difference(
    seed: int, shared: int, only_mine: int, only_theirs: int, span_ms: int, limit: int
) -> None:
    items = make_items(shared + only_mine + only_theirs, seed, span_ms=span_ms)
    common, mine, theirs = (
        items[:shared],
        items[shared : shared + only_mine],
        items[shared + only_mine :],
    )
    session = reconcile(ItemIndex(common + mine), ItemIndex(common + theirs), limit=limit)
    assert len(session.have) == len(set(session.have))
    assert len(session.need) == len(set(session.need))
    assert set(session.have) == ids(mine)
    assert set(session.need) == ids(theirs)


def test_ids_with_long_shared_prefixes_and_equal_timestamps() -> None:
    # Neighbours share 24 bytes and a timestamp: bounds need id prefixes of 25 bytes or more.
    # (The tail stays random: ids that differ in one byte only would make the additive
    # fingerprint collide, as it would for anyone who can grind ids; see the docs.)
    rnd = random.Random(9)
    everything = sorted((BASE_TS, b"\x07" * 24 + rnd.randbytes(8)) for _ in range(256))
    mine = ItemIndex(everything[::2] + everything[1:100:2])
    theirs = ItemIndex(everything[1::2] + everything[:60:2])
    session = reconcile(mine, theirs, limit=512)
    assert set(session.have) == ids(everything[60::2])
    assert set(session.need) == ids(everything[101::2])


def test_index_growing_during_the_session() -> None:
    items = make_items(6000, 3)
    common, only_mine, only_theirs, late = (
        items[:4000],
        items[4000:4300],
        items[4300:4700],
        items[4700:],
    )
    mine, theirs = ItemIndex(common + only_mine), ItemIndex(common + only_theirs)
    rnd = random.Random(4)

    def arrive(_round: int) -> None:
        for created_at, event_id in rnd.sample(late, 100):
            (mine if rnd.random() < 0.5 else theirs).add(created_at, event_id)
        mine.add(*only_theirs[_round])  # and some of the difference arrives from elsewhere

    session = reconcile(mine, theirs, limit=2048, between=arrive)
    reported = set(session.have) | set(session.need)
    both_all_along = ids(common)
    assert not reported & both_all_along
    still_different = {i for i in ids(only_mine) if i not in theirs} | {
        i for i in ids(only_theirs) if i not in mine
    }
    assert still_different
    assert still_different <= reported


# -- protocol figures at 100k ------------------------------------------------------------


@pytest.fixture(scope="module")
def hundred_k() -> list[tuple[int, bytes]]:
    return make_items(100_000 + 10, 42)


@pytest.mark.parametrize(("only_mine", "only_theirs"), [(10, 0), (0, 10), (5, 5), (1, 0), (0, 1)])
def test_100k_small_difference_targets(
    hundred_k: list[tuple[int, bytes]], only_mine: int, only_theirs: int
) -> None:
    common = hundred_k[:100_000]
    mine = hundred_k[100_000 : 100_000 + only_mine]
    theirs = hundred_k[100_000 + only_mine : 100_000 + only_mine + only_theirs]
    session = reconcile(ItemIndex(common + mine), ItemIndex(common + theirs))
    assert set(session.have) == ids(mine)
    assert set(session.need) == ids(theirs)
    assert session.round_trips <= 3
    assert session.total_bytes <= 3 * 1024


def test_100k_no_difference_is_one_small_round_trip(hundred_k: list[tuple[int, bytes]]) -> None:
    index = ItemIndex(hundred_k[:100_000])
    session = reconcile(index, ItemIndex(hundred_k[:100_000]))
    assert session.have == session.need == []
    assert session.round_trips == 1
    assert session.total_bytes < 100


@pytest.mark.parametrize(("count", "limit"), [(20_000, 1024), (2_000, 256)])
def test_fresh_node_against_many_with_small_messages(count: int, limit: int) -> None:
    items = make_items(count, 5)
    fresh_asks = reconcile(ItemIndex(), ItemIndex(items), limit=limit)
    assert fresh_asks.have == []
    assert set(fresh_asks.need) == ids(items)
    assert fresh_asks.round_trips > count * 32 // limit  # flow control did split the work
    fresh_answers = reconcile(ItemIndex(items), ItemIndex(), limit=limit)
    assert set(fresh_answers.have) == ids(items)
    assert fresh_answers.round_trips == 1


def test_reply_respects_the_smaller_of_both_limits() -> None:
    items = make_items(3000, 6)
    initiator = Reconciler(ItemIndex(), max_message_bytes=512)
    responder = Reconciler(ItemIndex(items), max_message_bytes=64 * 1024)
    reply = responder.receive(initiator.initiate()).reply
    assert reply is not None
    assert len(reply) <= 512
    assert initiator.receive(reply).need


# -- API misuse and lifecycle ------------------------------------------------------------


def test_lifecycle() -> None:
    reconciler = Reconciler(ItemIndex())
    reconciler.initiate()
    with pytest.raises(LocalProtocolError):
        reconciler.initiate()
    result = reconciler.receive(HEADER)  # the responder had nothing to add
    assert result == ReconcileResult(None, [], [])
    assert reconciler.done
    with pytest.raises(RemoteProtocolError, match="after the session finished"):
        reconciler.receive(HEADER)


def test_responder_is_done_after_a_reply_that_asks_nothing() -> None:
    responder = Reconciler(ItemIndex())
    initiator = Reconciler(ItemIndex(make_items(10, 1)))
    result = responder.receive(initiator.initiate())
    assert result.reply is not None
    assert (result.have, result.need) == ([], [])
    assert responder.done
    with pytest.raises(LocalProtocolError):
        responder.initiate()


def test_rejects_tiny_message_limit() -> None:
    with pytest.raises(LocalProtocolError):
        Reconciler(ItemIndex(), max_message_bytes=100)


# -- malformed input ---------------------------------------------------------------------


def _fingerprint_range(upper: bytes, count: int = 1) -> bytes:
    return upper + bytes((Mode.FINGERPRINT,)) + encode_varint(count) + b"\x00" * 16


INF = b"\x00\x00"
VALID = HEADER + _fingerprint_range(INF)

MALFORMED = {
    "empty": b"",
    "version": b"\x02" + VALID[1:],
    "truncated header": b"\x01\x80",
    "limit below minimum": b"\x01\x10" + VALID[4:],
    "truncated fingerprint": VALID[:-1],
    "truncated bound": HEADER + b"\x05",
    "prefix longer than an id": HEADER + b"\x05\x21" + b"\x00" * 33 + b"\x00",
    "infinite bound with prefix": HEADER + b"\x00\x01\x07\x00",
    "range after infinity": VALID + _fingerprint_range(INF),
    "out of order bounds": HEADER + b"\x0a\x00\x00" + b"\x01\x00\x00",  # ts 9, then ts 9 again
    "first bound is the minimum": HEADER + b"\x01\x00\x00",
    "timestamp past 64 bits": HEADER
    + b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00"
    + b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00",
    "timestamp past 2^53 - 1": HEADER + encode_varint(2**53 + 1) + b"\x00\x00",
    "varint too long": HEADER + b"\x80" * 11 + b"\x00",
    "non-minimal varint": HEADER + b"\x81\x00\x00\x00",
    "unknown mode": HEADER + INF + b"\x09",
    "huge id list": HEADER + INF + bytes((Mode.ID_LIST,)) + encode_varint(2**40) + b"\x00" * 64,
    "empty missing list": HEADER + INF + bytes((Mode.MISSING,)) + b"\x00",
    "duplicate ids": HEADER + INF + bytes((Mode.ID_LIST,)) + b"\x02" + b"\x01" * 64,
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_messages_raise_decode_error(name: str) -> None:
    reconciler = Reconciler(ItemIndex(make_items(50, 1)))
    reconciler.initiate()
    with pytest.raises(DecodeError):
        reconciler.receive(MALFORMED[name])


def test_oversized_message() -> None:
    reconciler = Reconciler(ItemIndex(), max_message_bytes=1024)
    with pytest.raises(DecodeError, match="exceeds the limit"):
        reconciler.receive(HEADER + b"\x00" * 2000)


def test_initiator_may_not_send_id_lists() -> None:
    message = HEADER + INF + bytes((Mode.ID_LIST,)) + b"\x01" + b"\x01" * 32
    with pytest.raises(RemoteProtocolError, match="only responders"):
        Reconciler(ItemIndex()).receive(message)


def test_huge_declared_fingerprint_count_is_harmless() -> None:
    index = ItemIndex(make_items(1000, 2))
    message = HEADER + _fingerprint_range(INF, count=2**64 - 1)
    result = Reconciler(index).receive(message)
    assert result.reply is not None
    assert decode(result.reply, max_bytes=1 << 16).ranges


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_garbage_only_ever_raises_remote_errors(data: bytes, initiator: bool) -> None:
    reconciler = Reconciler(ItemIndex(make_items(40, 3, span_ms=3)))
    if initiator:
        reconciler.initiate()
    for message in (data, HEADER + data):
        try:
            reconciler.receive(message)
        except RemoteProtocolError:
            pass
        except ProtocolError as error:  # pragma: no cover - would be a bug
            pytest.fail(f"local error for remote bytes: {error!r}")


# -- hostile peers -----------------------------------------------------------------------


def _split_forever(message: bytes) -> bytes:
    """A peer that answers any fingerprint by splitting it in two with made-up contents."""
    parsed = decode(message, max_bytes=1 << 24)
    writer = Writer(limit=8192, advertise=8192)
    lower = MIN_BOUND
    for rng in parsed.ranges:
        if rng.mode is Mode.FINGERPRINT:
            middle = ((lower[0] + min(rng.upper[0], BASE_TS * 2)) // 2, b"")
            if lower < middle < rng.upper:
                writer.put(lower, middle, Mode.FINGERPRINT, b"\x05" + random.randbytes(16))
                lower = middle
            writer.put(lower, rng.upper, Mode.FINGERPRINT, b"\x05" + random.randbytes(16))
        lower = rng.upper
    return writer.data()


def test_peer_that_splits_forever_is_cut_off() -> None:
    initiator = Reconciler(ItemIndex(make_items(2000, 4)), max_message_bytes=8192)
    message: bytes | None = initiator.initiate()
    with contextlib.suppress(RemoteProtocolError):
        while message is not None:
            message = initiator.receive(_split_forever(message)).reply
    # Either it gave up or the lies ran dry, within the default round limit: 64 rounds
    # and 8 more per message-full of ids held (2,000 ids, 256 to an 8,192-byte message).
    assert initiator.rounds <= 64 + 8 * (2000 // 256) + 1


def test_peer_that_never_agrees_is_cut_off() -> None:
    initiator = Reconciler(ItemIndex(make_items(2000, 4)))
    initiator.initiate()
    lie = HEADER + _fingerprint_range(INF, count=2002)  # a whole-set fingerprint, never ours
    with pytest.raises(RemoteProtocolError, match="giving up after 64 rounds"):
        _repeat(initiator, lie)


def test_initiator_that_never_agrees_is_cut_off() -> None:
    responder = Reconciler(ItemIndex(make_items(2000, 4)))
    whole = HEADER + _fingerprint_range(INF, count=2001)  # "one more than you", never true
    with pytest.raises(RemoteProtocolError, match="giving up after 64 rounds"):
        _repeat(responder, whole)


def _repeat(reconciler: Reconciler, message: bytes) -> None:
    for _ in range(1000):
        reconciler.receive(message)


def _claim_a_backlog(message: bytes, rnd: random.Random, per_round: int = 1000) -> bytes:
    """A responder that answers every message with `per_round` made-up ids the initiator
    lacks and a whole-rest fingerprint that never matches: a backlog with no end."""
    parsed = decode(message, max_bytes=1 << 24)
    writer = Writer(limit=64 * 1024, advertise=64 * 1024)
    upper = (BASE_TS + len(parsed.ranges) + rnd.randrange(1 << 30), b"")
    made_up = sorted(rnd.randbytes(32) for _ in range(per_round))
    writer.put(MIN_BOUND, upper, Mode.ID_LIST, encode_varint(len(made_up)) + b"".join(made_up))
    writer.put(upper, INFINITY, Mode.FINGERPRINT, encode_varint(10**7) + rnd.randbytes(16))
    return writer.data()


def test_a_peer_that_claims_an_endless_backlog_ends_the_session_at_the_learning_cap() -> None:
    """Before the cap, a session kept every id it was told of, and the round limit grew with
    them: a responder claiming 2,000 new ids a round was never cut off (1.57 GB in 21 s)."""
    rnd = random.Random(3)
    initiator = Reconciler(ItemIndex(make_items(500, 4)), max_learned=10_000)
    message: bytes | None = initiator.initiate()
    learned, rounds, result = 0, 0, None
    while message is not None:
        result = initiator.receive(_claim_a_backlog(message, rnd))
        learned += len(result.have) + len(result.need)
        rounds += 1
        message = result.reply
    assert result is not None
    assert result.truncated
    assert initiator.done
    assert learned == 10_000  # have and need together
    assert rounds == 10


def test_the_learning_cap_defaults_to_max_learned() -> None:
    rnd = random.Random(5)
    initiator = Reconciler(ItemIndex(make_items(100, 4)))
    message: bytes | None = initiator.initiate()
    learned = 0
    while message is not None:
        result = initiator.receive(_claim_a_backlog(message, rnd, per_round=1900))
        learned += len(result.have) + len(result.need)
        message = result.reply
    assert learned == MAX_LEARNED


def test_an_honest_session_stopped_at_the_cap_finishes_in_the_next_one() -> None:
    """Ending early loses nothing: once the first part is fetched, the next session finds
    the rest."""
    theirs_items = make_items(3000, 8)
    mine = ItemIndex(theirs_items[:500])
    theirs = ItemIndex(theirs_items)
    initiator = Reconciler(mine, max_learned=1000)
    responder = Reconciler(theirs)
    message: bytes | None = initiator.initiate()
    need: list[bytes] = []
    while message is not None:
        reply = responder.receive(message).reply
        assert reply is not None
        result = initiator.receive(reply)
        need += result.need
        message = result.reply
    assert result.truncated
    assert len(need) == 1000
    by_id = {event_id: ts for ts, event_id in theirs_items}
    mine.add_many((by_id[event_id], event_id) for event_id in need)  # fetched
    rest = reconcile(mine, theirs)
    assert len(rest.need) == 1500
    assert ids(theirs_items) == set(need) | set(rest.need) | ids(theirs_items[:500])


def test_searching_spends_no_more_than_the_allowance_and_none_still_converges() -> None:
    """The search for a single extra item is the CPU a peer can make us spend; the caller
    passes its budget, and with none the ranges are split instead."""
    items = make_items(4000, 9)
    extra = items[:]
    missing = [extra.pop(rnd_index) for rnd_index in (3999, 2500, 1200, 7)]
    one_short = Reconciler(ItemIndex(items[1:])).initiate()  # "I have one item fewer"
    generous = Reconciler(ItemIndex(items)).receive(one_short, search_allowance=1 << 20)
    assert 0 < generous.searched <= 4000
    assert generous.reply is not None
    assert decode(generous.reply, max_bytes=1 << 16).ranges[-1].mode is Mode.MISSING
    stingy = Reconciler(ItemIndex(items)).receive(one_short, search_allowance=10)
    assert stingy.searched == 0  # the range holds 4,000 items: more than allowed, not searched
    # With no searching at all, a session still finds exactly the difference.
    mine, theirs = ItemIndex(extra), ItemIndex(items)
    a, b = Reconciler(mine), Reconciler(theirs)
    message: bytes | None = a.initiate()
    found: list[bytes] = []
    while message is not None:
        reply = b.receive(message, search_allowance=0)
        assert reply.searched == 0
        assert reply.reply is not None
        result = a.receive(reply.reply, search_allowance=0)
        assert result.searched == 0
        found += result.need
        message = result.reply
    assert set(found) == {event_id for _, event_id in missing}


def test_explicit_round_limit() -> None:
    responder = Reconciler(ItemIndex(make_items(100, 4)), max_rounds=2)
    whole = HEADER + _fingerprint_range(INF, count=101)
    responder.receive(whole)
    responder.receive(whole)
    with pytest.raises(RemoteProtocolError, match="giving up"):
        responder.receive(whole)


def test_bound_encoding_is_delta_and_prefix() -> None:
    assert encode_bound(INFINITY, 123) == b"\x00\x00"
    assert encode_bound((10, b""), 10) == b"\x01\x00"
    assert encode_bound((300, b"\xab"), 10) == encode_varint(291) + b"\x01\xab"
