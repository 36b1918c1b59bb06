"""One heap of deadlines with cancellation, so get_timer() is the true earliest deadline."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from enum import Enum, auto


class TimerKind(Enum):
    MAINTAIN = auto()  # membership: dial until target_links
    SHUFFLE = auto()  # membership: shuffle and rotation tick
    DIAL = auto()  # a dial the shell never answered
    LINK = auto()  # a link still pending
    GRAFT = auto()  # Plumtree: an announced id has not arrived
    WANT = auto()  # a Want batch not fully answered
    SESSION_START = auto()  # time to reconcile with a peer
    SESSION_EXPIRE = auto()  # a session went quiet
    VERIFY = auto()  # a Verify batch not fully reported
    RECONCILE_WORK = auto()  # reconciliation messages waiting for the work budget


@dataclass(slots=True, eq=False)
class Timer:
    when: float
    kind: TimerKind
    key: object
    cancelled: bool = field(default=False)


class Timers:
    """Deadlines in a heap; cancelled ones are skipped lazily and compacted when they pile up."""

    __slots__ = ("_cancelled", "_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = 0
        self._cancelled = 0

    def schedule(self, when: float, kind: TimerKind, key: object = None) -> Timer:
        timer = Timer(when, kind, key)
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, timer))
        return timer

    def cancel(self, timer: Timer | None) -> None:
        if timer is None or timer.cancelled:
            return
        timer.cancelled = True
        self._cancelled += 1
        if self._cancelled > 64 and self._cancelled * 2 > len(self._heap):
            self._heap = [entry for entry in self._heap if not entry[2].cancelled]
            heapq.heapify(self._heap)
            self._cancelled = 0

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
            self._cancelled -= 1
        return heap[0][0] if heap else None

    def pop_due(self, now: float) -> Timer | None:
        """The earliest live timer due at `now`, removed from the heap, or None."""
        deadline = self.next_deadline()
        if deadline is None or deadline > now:
            return None
        timer = heapq.heappop(self._heap)[2]
        timer.cancelled = True  # fired: a later cancel() of it is a no-op
        return timer

    def __len__(self) -> int:
        return len(self._heap) - self._cancelled
