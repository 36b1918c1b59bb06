"""The sorted (created_at, id) set behind reconciliation, with prefix-sum range fingerprints."""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Callable, Iterable
from itertools import accumulate, islice
from typing import Final

from protocol.errors import LocalProtocolError
from protocol.reconcile.codec import (
    FINGERPRINT_BYTES,
    ID_BYTES,
    MAX_TIMESTAMP,
    Bound,
    encode_varint,
)

_MASK: Final = (1 << 256) - 1
STOP_EVERY: Final = 512
"""Items a search hashes between two looks at its caller's clock (about 0.3 ms)."""


def fingerprint(id_sum: int, count: int) -> bytes:
    """SHA-256 of (sum of ids mod 2^256, little-endian) || varint(count), first 16 bytes."""
    data = (id_sum & _MASK).to_bytes(32, "little") + encode_varint(count)
    return hashlib.sha256(data).digest()[:FINGERPRINT_BYTES]


class ItemIndex:
    """Sorted set of (created_at, id) with fast range fingerprints. Lives in memory in the node.

    Positions (`a`, `b`) in the query methods index the sorted order; they are only valid
    until the next `add`, so the reconciler re-resolves bounds for every message.
    """

    __slots__ = ("_ids", "_keys", "_pending", "_prefix", "_vals")

    def __init__(self, items: Iterable[tuple[int, bytes]] = ()) -> None:
        self._keys: list[tuple[int, bytes]] = []
        self._vals: list[int] = []  # ids as little-endian integers, in key order
        self._prefix: list[int] = [0]  # _prefix[i] = sum of _vals[:i], not reduced
        self._ids: set[bytes] = set()
        self._pending: list[tuple[int, bytes]] = []
        self.add_many(items)

    def add(self, created_at: int, event_id: bytes) -> bool:
        """Add one item; False if the id is already present. O(1): sorting waits for a query."""
        return self.add_many(((created_at, event_id),)) == 1

    def add_many(self, items: Iterable[tuple[int, bytes]]) -> int:
        """Add items, returning how many were new; a bad item raises, those before it stay."""
        ids, pending = self._ids, self._pending
        before = len(ids)
        for created_at, event_id in items:
            if (
                type(created_at) is not int
                or type(event_id) is not bytes
                or len(event_id) != ID_BYTES
                or not 0 <= created_at <= MAX_TIMESTAMP
            ):
                _check_item(created_at, event_id)  # raises with the reason, or lets subclasses by
            if event_id not in ids:
                ids.add(event_id)
                pending.append((created_at, event_id))
        return len(ids) - before

    def __contains__(self, event_id: object) -> bool:
        return isinstance(event_id, bytes) and event_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    # -- queries for the reconciler ------------------------------------------------------

    def position(self, bound: Bound) -> int:
        """Index of the first item at or above `bound`."""
        self._flush()
        return bisect_left(self._keys, bound)

    def fingerprint(self, a: int, b: int) -> bytes:
        self._flush()
        return fingerprint(self._prefix[b] - self._prefix[a], b - a)

    def ids(self, a: int, b: int) -> list[bytes]:
        self._flush()
        return [event_id for _, event_id in self._keys[a:b]]

    def separator(self, p: int) -> Bound:
        """The shortest bound above item p-1 and at or below item p (0 < p < len)."""
        self._flush()
        (prev_ts, prev_id), (ts, event_id) = self._keys[p - 1], self._keys[p]
        if prev_ts != ts:
            return (ts, b"")
        shared = 0
        while prev_id[shared] == event_id[shared]:
            shared += 1
        return (ts, event_id[: shared + 1])

    def find_extra(
        self, a: int, b: int, target: bytes, *, stop: Callable[[], bool] | None = None
    ) -> tuple[bytes | None, int]:
        """The one item of [a, b) whose removal gives fingerprint `target`, if any, and the
        items hashed to look for it.

        Costs one SHA-256 per item: the caller bounds b - a, and may pass `stop`, asked
        every STOP_EVERY items: True gives up (the item is then not found).
        """
        self._flush()
        total = self._prefix[b] - self._prefix[a]
        tail = encode_varint(b - a - 1)
        sha256, vals = hashlib.sha256, self._vals
        for start in range(a, b, STOP_EVERY):
            if stop is not None and start > a and stop():
                return None, start - a
            for i in range(start, min(b, start + STOP_EVERY)):
                data = ((total - vals[i]) & _MASK).to_bytes(32, "little") + tail
                if sha256(data).digest()[:FINGERPRINT_BYTES] == target:
                    return self._keys[i][1], i + 1 - a
        return None, b - a

    def _flush(self) -> None:
        # Merge the pending adds and redo the prefix sums from the first changed position;
        # new events usually sort last, which makes this O(number added).
        if not self._pending:
            return
        pending = sorted(self._pending)
        self._pending = []
        keys = self._keys
        start = bisect_left(keys, pending[0])
        if start == len(keys):
            keys.extend(pending)
        else:
            tail = keys[start:]
            tail.extend(pending)
            tail.sort()
            keys[start:] = tail
        del self._vals[start:]
        from_bytes = int.from_bytes
        self._vals.extend([from_bytes(event_id, "little") for _, event_id in keys[start:]])
        del self._prefix[start + 1 :]
        sums = accumulate(self._vals[start:], initial=self._prefix[start])
        self._prefix.extend(islice(sums, 1, None))


def _check_item(created_at: int, event_id: bytes) -> None:
    if isinstance(created_at, bool) or not isinstance(created_at, int):
        raise LocalProtocolError(f"created_at must be an int, got {type(created_at).__name__}")
    if not 0 <= created_at <= MAX_TIMESTAMP:
        raise LocalProtocolError(f"created_at {created_at} is outside 0..{MAX_TIMESTAMP}")
    if not isinstance(event_id, bytes) or len(event_id) != ID_BYTES:
        raise LocalProtocolError(f"an event id is {ID_BYTES} bytes")
