"""Byte format of reconciliation messages: bounds, ranges, varints, and their limits."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from protocol.errors import DecodeError
from protocol.limits import MAX_TIMESTAMP_MS

VERSION: Final = 1
ID_BYTES: Final = 32
FINGERPRINT_BYTES: Final = 16
MAX_TIMESTAMP: Final = MAX_TIMESTAMP_MS  # largest created_at an item or a bound may have
MIN_MESSAGE_BYTES: Final = 256  # room for one header, one id list entry and the remainder
MAX_MESSAGE_BYTES: Final = 16 * 1024 * 1024
"""Largest limit the format can advertise; on a link, Reconcile caps a payload far lower."""
_MAX_VARINT_BYTES: Final = 10
_VARINT_LIMIT: Final = 1 << 64

# A bound is the lower edge of a key: items (ts, id) with (ts, id) >= (bound ts, prefix) are
# above it. Plain tuples so bisect can compare them with the index's keys directly.
Bound = tuple[int, bytes]
INFINITY_TS: Final = 1 << 64  # above every timestamp a bound can spell
MIN_BOUND: Final[Bound] = (0, b"")
INFINITY: Final[Bound] = (INFINITY_TS, b"")

_MAX_BOUND_BYTES: Final = _MAX_VARINT_BYTES + 1 + ID_BYTES
# Room kept free in every message for "skip up to here, then fingerprint the rest".
RESERVE_BYTES: Final = (_MAX_BOUND_BYTES + 1) + (2 + 1 + _MAX_VARINT_BYTES + FINGERPRINT_BYTES)


class Mode(IntEnum):
    SKIP = 0  # nothing to do for this range
    FINGERPRINT = 1  # count, fingerprint: compare and answer
    ID_LIST = 2  # responder only: every id it holds in the range
    MISSING = 3  # responder only: ids the initiator lacks; the rest of the range matches


@dataclass(frozen=True, slots=True)
class Range:
    """One range of a message; its lower bound is the previous range's upper bound."""

    upper: Bound
    mode: Mode
    count: int = 0
    fingerprint: bytes = b""
    ids: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class Message:
    limit: int  # the largest message its sender accepts
    ranges: tuple[Range, ...]


def encode_varint(value: int) -> bytes:
    """Unsigned LEB128: 7 bits per byte, least significant group first."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_bound(bound: Bound, previous_ts: int) -> bytes:
    ts, prefix = bound
    code = 0 if ts == INFINITY_TS else ts - previous_ts + 1
    return encode_varint(code) + bytes((len(prefix),)) + prefix


def decode(data: bytes, *, max_bytes: int) -> Message:
    """Parse and check a whole message; every violation raises DecodeError with the offset."""
    if len(data) > max_bytes:
        raise DecodeError(f"message of {len(data)} bytes exceeds the limit of {max_bytes}")
    reader = _Reader(data)
    if not data:
        raise DecodeError("empty message")
    version = reader.byte("version")
    if version != VERSION:
        raise DecodeError(f"unsupported version {version}, expected {VERSION}")
    limit = reader.varint("limit")
    if not MIN_MESSAGE_BYTES <= limit <= MAX_MESSAGE_BYTES:
        raise DecodeError(
            f"limit {limit} is outside {MIN_MESSAGE_BYTES}..{MAX_MESSAGE_BYTES} bytes"
        )
    ranges: list[Range] = []
    previous: Bound = MIN_BOUND
    while not reader.at_end():
        if previous == INFINITY:
            raise DecodeError(f"byte {reader.pos}: range after the infinite bound")
        upper = reader.bound(previous[0])
        if upper <= previous:
            raise DecodeError(f"byte {reader.pos}: bounds out of order")
        ranges.append(reader.payload(upper))
        previous = upper
    return Message(limit, tuple(ranges))


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def take(self, size: int, what: str) -> bytes:
        if size > len(self.data) - self.pos:
            raise DecodeError(
                f"byte {self.pos}: {what} needs {size} bytes, {len(self.data) - self.pos} left"
            )
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def byte(self, what: str) -> int:
        return self.take(1, what)[0]

    def varint(self, what: str) -> int:
        start, value = self.pos, 0
        for i in range(_MAX_VARINT_BYTES):
            byte = self.byte(what)
            value |= (byte & 0x7F) << (7 * i)
            if not byte & 0x80:
                if byte == 0 and i > 0:
                    raise DecodeError(f"byte {start}: {what} is a non-minimal varint")
                if value >= _VARINT_LIMIT:
                    raise DecodeError(f"byte {start}: {what} does not fit in 64 bits")
                return value
        raise DecodeError(f"byte {start}: {what} varint is longer than {_MAX_VARINT_BYTES} bytes")

    def bound(self, previous_ts: int) -> Bound:
        start = self.pos
        code = self.varint("bound timestamp")
        size = self.byte("bound prefix length")
        if size > ID_BYTES:
            raise DecodeError(f"byte {start}: bound prefix of {size} bytes, at most {ID_BYTES}")
        prefix = self.take(size, "bound prefix")
        if code == 0:
            if size:
                raise DecodeError(f"byte {start}: the infinite bound has an id prefix")
            return INFINITY
        ts = previous_ts + code - 1
        if ts > MAX_TIMESTAMP:
            raise DecodeError(f"byte {start}: bound timestamp is above {MAX_TIMESTAMP}")
        return (ts, prefix)

    def payload(self, upper: Bound) -> Range:
        start = self.pos
        try:
            mode = Mode(self.byte("mode"))
        except ValueError:
            raise DecodeError(f"byte {start}: unknown mode {self.data[start]}") from None
        if mode is Mode.SKIP:
            return Range(upper, mode)
        count = self.varint("count")
        if mode is Mode.FINGERPRINT:
            return Range(upper, mode, count, self.take(FINGERPRINT_BYTES, "fingerprint"))
        # Check the declared count against the bytes present before allocating anything.
        left = len(self.data) - self.pos
        if count > left // ID_BYTES:
            raise DecodeError(f"byte {start}: {count} ids declared, only {left} bytes left")
        if mode is Mode.MISSING and count == 0:
            raise DecodeError(f"byte {start}: empty missing list")
        raw = self.take(count * ID_BYTES, "ids")
        ids = tuple(raw[i : i + ID_BYTES] for i in range(0, len(raw), ID_BYTES))
        if len(set(ids)) != len(ids):
            raise DecodeError(f"byte {start}: duplicate id in a list")
        return Range(upper, mode, count, ids=ids)


class Writer:
    """Builds one message within a byte limit, merging skipped ranges.

    `put` refuses an entry that would eat into RESERVE_BYTES; `put_rest` always fits, so a
    full message can still hand the rest of the work back as one fingerprint.
    """

    __slots__ = ("_buf", "_last_ts", "_last_upper", "_limit", "asked")

    def __init__(self, *, limit: int, advertise: int) -> None:
        self._buf = bytearray((VERSION,)) + encode_varint(advertise)
        self._limit = limit
        self._last_ts = 0
        self._last_upper: Bound = MIN_BOUND
        self.asked: set[tuple[Bound, Bound]] = set()  # fingerprinted ranges: the peer must reply

    @property
    def empty(self) -> bool:
        return self._last_upper == MIN_BOUND

    def room(self, lower: Bound) -> int:
        """Bytes left for an entry starting at `lower`, after any skip and a worst-case bound."""
        gap = 0 if lower == self._last_upper else _MAX_BOUND_BYTES + 1
        return self._limit - RESERVE_BYTES - len(self._buf) - gap - _MAX_BOUND_BYTES - 1

    def put(self, lower: Bound, upper: Bound, mode: Mode, payload: bytes) -> bool:
        entry = bytearray()
        ts = self._last_ts
        if lower != self._last_upper:
            entry += encode_bound(lower, ts)
            entry.append(Mode.SKIP)
            ts = lower[0]
        entry += encode_bound(upper, ts)
        entry.append(mode)
        entry += payload
        if len(self._buf) + len(entry) > self._limit - RESERVE_BYTES:
            return False
        self._buf += entry
        self._last_ts, self._last_upper = upper[0], upper
        if mode is Mode.FINGERPRINT:
            self.asked.add((lower, upper))
        return True

    def put_rest(self, lower: Bound, count: int, fingerprint: bytes) -> None:
        self._limit += RESERVE_BYTES
        ok = self.put(lower, INFINITY, Mode.FINGERPRINT, encode_varint(count) + fingerprint)
        assert ok, "the reserve always holds the remainder"

    def data(self) -> bytes:
        return bytes(self._buf)


def id_list(ids: list[bytes]) -> bytes:
    return encode_varint(len(ids)) + b"".join(ids)
