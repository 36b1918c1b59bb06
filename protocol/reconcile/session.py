"""One reconciliation session with a peer: range-based (negentropy-style), sans-IO."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from protocol.errors import LocalProtocolError, RemoteProtocolError
from protocol.reconcile.codec import (
    ID_BYTES,
    INFINITY,
    MAX_MESSAGE_BYTES,
    MIN_BOUND,
    MIN_MESSAGE_BYTES,
    Bound,
    Mode,
    Range,
    Writer,
    decode,
    encode_varint,
    id_list,
)
from protocol.reconcile.index import ItemIndex

__all__ = ["ReconcileResult", "Reconciler"]

FIRST_FANOUT: Final = 32  # least buckets for the whole set: go wide at once, saves rounds
MAX_FIRST_FANOUT: Final = 256
FANOUT: Final = 16  # most buckets for a part of the set
MIN_FANOUT: Final = 4
GENEROUS_FANOUT: Final = 8  # least buckets when few differences are open
GENEROUS_PER_DIFF: Final = 4
FANOUT_PER_DIFF: Final = 1.5  # buckets per expected difference when bytes matter
LIST_MAX: Final = 32  # largest range settled by listing ids when bytes are cheap
LIST_PER_DIFF: Final = 3  # ids listed per expected difference when bytes matter
FEW_DIFFS: Final = 32  # below this many open differences, spend bytes to save rounds
SEARCH_MAX: Final = 8192  # largest range searched for a single extra item (one hash per item)
SEARCH_BUDGET: Final = 65536  # items searched per received message, whatever the peer asks
BASE_ROUNDS: Final = 64
ROUND_CREDIT: Final = 8  # extra rounds per message-full of ids we hold or have learned
MAX_LEARNED: Final = 1 << 16
"""Ids an initiator learns in one session (have and need together) before it ends the
session early: about 6 MB of state at most, whatever backlog a peer claims. The next
session, after fetching, finds the rest (its ids are then ours and match)."""


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    """What one received message (or the start) yields."""

    reply: bytes | None  # message to send to the peer, None when this side is done
    have: list[bytes]  # ids we hold that the peer lacks, learned in this step
    need: list[bytes]  # ids the peer holds that we lack, learned in this step
    searched: int = 0  # items hashed searching for single extra items (the CPU spent)
    truncated: bool = False  # ended early at max_learned: reconcile again after fetching


@dataclass(frozen=True, slots=True)
class _Span:
    """A non-skip range of a received message, resolved against our index."""

    lower: Bound
    range: Range
    a: int  # our items in the range are positions a..b-1
    b: int
    fingerprint: bytes  # ours; empty unless the range is a fingerprint

    @property
    def gap(self) -> int:
        return abs(self.b - self.a - self.range.count)

    @property
    def matches(self) -> bool:
        return self.range.count == self.b - self.a and self.range.fingerprint == self.fingerprint


@dataclass(slots=True)
class _Step:
    """What one received message needs while it is being answered."""

    writer: Writer
    expected: float  # differences to expect in a mismatched range
    thrifty: bool  # many differences open: bytes matter more than rounds
    search_left: int
    stop: Callable[[], bool] | None  # asked during searches: True ends them for this step
    searched: int = 0
    have: list[bytes] = field(default_factory=list)
    need: list[bytes] = field(default_factory=list)


class Reconciler:
    """One reconciliation session with one peer, in either role (docs/protocol-reconcile.md).

    The initiator calls `initiate`, then feeds every reply to `receive`; it alone learns
    `have` and `need` (the responder's are always empty). When a reply asks nothing more,
    the initiator's `receive` returns `reply=None` and the session is over. The responder
    answers every message; its `done` turns True only when its own reply asked nothing,
    otherwise the initiator simply falls silent.
    """

    __slots__ = (
        "_asked",
        "_done",
        "_index",
        "_initiator",
        "_limit",
        "_max_learned",
        "_max_rounds",
        "_peer_limit",
        "_reported",
        "_rounds",
    )

    def __init__(
        self,
        index: ItemIndex,
        *,
        max_message_bytes: int = 64 * 1024,
        max_rounds: int | None = None,
        max_learned: int = MAX_LEARNED,
    ) -> None:
        if not MIN_MESSAGE_BYTES <= max_message_bytes <= MAX_MESSAGE_BYTES:
            raise LocalProtocolError(
                f"max_message_bytes must be in {MIN_MESSAGE_BYTES}..{MAX_MESSAGE_BYTES}"
            )
        self._index = index
        self._limit = max_message_bytes
        self._peer_limit = max_message_bytes
        self._max_rounds = max_rounds
        self._max_learned = max_learned
        self._initiator: bool | None = None
        self._done = False
        self._rounds = 0
        self._reported: set[bytes] = set()  # ids already handed out in have or need
        self._asked: set[tuple[Bound, Bound]] = set()  # ranges we last sent fingerprints for

    @property
    def done(self) -> bool:
        return self._done

    @property
    def rounds(self) -> int:
        """Messages received so far."""
        return self._rounds

    def initiate(self) -> bytes:
        """The first message: one fingerprint of the whole set."""
        if self._initiator is not None:
            raise LocalProtocolError("initiate() must be the first call of a session")
        self._initiator = True
        writer = Writer(limit=self._limit, advertise=self._limit)
        self._put_rest(writer, MIN_BOUND)
        self._asked = writer.asked
        return writer.data()

    def receive(
        self,
        message: bytes,
        *,
        search_allowance: int = SEARCH_BUDGET,
        reply_limit: int | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> ReconcileResult:
        """Answer one message. search_allowance: items this step may hash looking for a
        single extra item; stop: asked every few hundred of them, True ends searching for
        this step (the caller's CPU budget for this peer, say a deadline on its clock; no
        search costs rounds, never correctness). reply_limit: at most this many bytes in
        the reply (the caller's byte budget for this peer, at least MIN_MESSAGE_BYTES;
        a smaller reply costs rounds, never correctness)."""
        if reply_limit is not None and reply_limit < MIN_MESSAGE_BYTES:
            raise LocalProtocolError(f"reply_limit must be at least {MIN_MESSAGE_BYTES}")
        if self._done:
            raise RemoteProtocolError("message received after the session finished")
        if self._initiator is None:
            self._initiator = False
        self._rounds += 1
        if self._rounds > self._round_limit():
            raise RemoteProtocolError(f"no agreement, giving up after {self._rounds - 1} rounds")
        parsed = decode(message, max_bytes=self._limit)
        if not self._initiator and any(r.mode > Mode.FINGERPRINT for r in parsed.ranges):
            raise RemoteProtocolError("the initiator sent an id list; only responders do")
        self._peer_limit = parsed.limit
        spans = self._spans(parsed.ranges)
        expected, open_diffs = _estimate(spans)
        allowance = max(0, min(search_allowance, SEARCH_BUDGET))
        step = _Step(
            Writer(
                limit=min(self._limit, parsed.limit, reply_limit or self._limit),
                advertise=self._limit,
            ),
            expected,
            thrifty=open_diffs > FEW_DIFFS,
            search_left=allowance,
            stop=stop,
        )
        for span in spans:
            if not self._answer(step, span):
                break
        searched = step.searched
        if self._initiator and len(self._reported) >= self._max_learned:
            self._done = True  # enough for now: fetch it, then a new session finds the rest
            return ReconcileResult(None, step.have, step.need, searched, truncated=True)
        self._asked = step.writer.asked
        # A reply without fingerprints asks nothing: the initiator need not even send it.
        self._done = not step.writer.asked
        reply = None if self._done and self._initiator else step.writer.data()
        return ReconcileResult(reply, step.have, step.need, searched)

    def _round_limit(self) -> int:
        if self._max_rounds is not None:
            return self._max_rounds
        # Honest sessions need few rounds unless ids are shipped in bulk; allow for shipping
        # everything we hold or have learned a few times over.
        known = len(self._index) + len(self._reported)
        per_message = max(1, min(self._limit, self._peer_limit) // ID_BYTES)
        return BASE_ROUNDS + ROUND_CREDIT * (known // per_message)

    def _spans(self, ranges: tuple[Range, ...]) -> list[_Span]:
        index, spans, lower = self._index, [], MIN_BOUND
        for rng in ranges:
            if rng.mode is not Mode.SKIP:
                a, b = index.position(lower), index.position(rng.upper)
                mine = index.fingerprint(a, b) if rng.mode is Mode.FINGERPRINT else b""
                spans.append(_Span(lower, rng, a, b, mine))
            lower = rng.upper
        return spans

    # -- one range of a received message -------------------------------------------------

    def _answer(self, step: _Step, span: _Span) -> bool:
        """Answer one range; False once the message is full (the rest was handed back)."""
        index, rng = self._index, span.range
        if rng.mode is Mode.ID_LIST:
            listed = set(rng.ids)
            self._learn(step.have, (x for x in index.ids(span.a, span.b) if x not in listed))
            self._learn(step.need, (x for x in rng.ids if x not in index))
            return True
        if rng.mode is Mode.MISSING:
            self._learn(step.need, (x for x in rng.ids if x not in index))
            return True
        if span.matches:
            return True
        mine, theirs = span.b - span.a, rng.count
        if mine == theirs + 1 and mine <= min(SEARCH_MAX, step.search_left):
            # One item more than the peer: find the one whose absence gives its fingerprint.
            extra, hashed = index.find_extra(span.a, span.b, rng.fingerprint, stop=step.stop)
            step.searched += hashed
            step.search_left -= hashed
            if extra is None and hashed < mine:
                step.search_left = 0  # stopped: no more searching in this step
            if extra is not None:
                if self._initiator:
                    self._learn(step.have, [extra])
                    return True
                return self._put(step, span, span.range.upper, Mode.MISSING, id_list([extra]))
        if self._initiator and theirs == 0:
            self._learn(step.have, index.ids(span.a, span.b))
            return True
        # Echo our own fingerprint when the peer can settle the range in one go (it is small
        # enough to list, or holds the single extra item), unless it was our echo already.
        small = min(mine, theirs) <= self._list_max(step)
        echo_back = (span.lower, rng.upper) not in self._asked
        if self._initiator:
            # Holding nothing there, we cannot split the range: echo it even when we sent
            # it last (the peer's reply was full before it got to it). No ping-pong: a
            # responder answers a range we hold nothing of with its ids.
            if (echo_back or mine == 0) and (
                small or (theirs == mine + 1 and theirs <= SEARCH_MAX)
            ):
                return self._echo(step, span)
        elif small:
            return self._send_ids(step, span)
        elif echo_back and theirs == mine + 1 and theirs <= SEARCH_MAX:
            return self._echo(step, span)
        return self._split(step, span, self._fanout(step, span))

    def _list_max(self, step: _Step) -> int:
        if not step.thrifty:
            return LIST_MAX
        return min(LIST_MAX, max(MIN_FANOUT, round(LIST_PER_DIFF * step.expected)))

    def _fanout(self, step: _Step, span: _Span) -> int:
        # About FANOUT_PER_DIFF buckets per expected difference, so most buckets hold one and
        # get settled by a search; with few differences open, go wide to save rounds.
        differences = max(_least_differences(span), step.expected)
        wanted = round(FANOUT_PER_DIFF * differences)
        if span.lower == MIN_BOUND and span.range.upper == INFINITY:
            return min(max(wanted, FIRST_FANOUT), MAX_FIRST_FANOUT)
        if not step.thrifty:
            return min(max(round(GENEROUS_PER_DIFF * differences), GENEROUS_FANOUT), FANOUT)
        return min(max(wanted, MIN_FANOUT), FANOUT)

    def _echo(self, step: _Step, span: _Span) -> bool:
        payload = encode_varint(span.b - span.a) + span.fingerprint
        return self._put(step, span, span.range.upper, Mode.FINGERPRINT, payload)

    def _split(self, step: _Step, span: _Span, fanout: int) -> bool:
        index, a, count = self._index, span.a, span.b - span.a
        parts = min(fanout, count)
        start, lower = a, span.lower
        for j in range(1, parts + 1):
            end = a + count * j // parts
            upper = span.range.upper if j == parts else index.separator(end)
            payload = encode_varint(end - start) + index.fingerprint(start, end)
            if not step.writer.put(lower, upper, Mode.FINGERPRINT, payload):
                return self._put_rest(step.writer, lower)
            start, lower = end, upper
        return True

    def _send_ids(self, step: _Step, span: _Span) -> bool:
        """Every id we hold in the range, split across messages when it must be."""
        index, w, a, b = self._index, step.writer, span.a, span.b
        fits = max(0, (w.room(span.lower) - 10) // ID_BYTES)
        if b - a <= fits:
            return self._put(step, span, span.range.upper, Mode.ID_LIST, id_list(index.ids(a, b)))
        if fits == 0:
            return self._put_rest(w, span.lower)
        cut = index.separator(a + fits)
        ok = w.put(span.lower, cut, Mode.ID_LIST, id_list(index.ids(a, a + fits)))
        assert ok, "room() is conservative"
        return self._put_rest(w, cut)

    def _put(self, step: _Step, span: _Span, upper: Bound, mode: Mode, payload: bytes) -> bool:
        if step.writer.put(span.lower, upper, mode, payload):
            return True
        return self._put_rest(step.writer, span.lower)

    def _put_rest(self, w: Writer, lower: Bound) -> bool:
        # The message is full: everything from `lower` up goes back as one fingerprint.
        index = self._index
        a, b = index.position(lower), index.position(INFINITY)
        w.put_rest(lower, b - a, index.fingerprint(a, b))
        return False

    def _learn(self, out: list[bytes], ids: Iterable[bytes]) -> None:
        for event_id in ids:
            if len(self._reported) >= self._max_learned:
                return  # the session ends after this message (see receive)
            if event_id not in self._reported:
                self._reported.add(event_id)
                out.append(event_id)


def _estimate(spans: list[_Span]) -> tuple[float, float]:
    """Differences to expect in one mismatched fingerprint range, and in all of them.

    The peer cut its ranges into buckets of similar size, so the share that match gives a
    Poisson rate; a count gap of k means at least k differences in that range.
    """
    ranges = [s for s in spans if s.range.mode is Mode.FINGERPRINT]
    mismatched = [s for s in ranges if not s.matches]
    if not mismatched:
        return 1.0, 0.0
    if len(ranges) < 4:
        rate = 1.0
    elif len(mismatched) == len(ranges):
        rate = math.log(len(ranges)) + 1.0  # all differ: at least this, maybe many more
    else:
        rate = -math.log1p(-len(mismatched) / len(ranges))
    expected = max(1.0, rate / -math.expm1(-rate))
    gaps = sum(_least_differences(s) for s in mismatched)
    return expected, max(gaps, expected * len(mismatched))


def _least_differences(span: _Span) -> int:
    # Equal counts but different fingerprints: one item missing on each side at least.
    return span.gap or 2
