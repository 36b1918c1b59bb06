"""Event-loop stall watch: how late a periodic probe wakes up, and what held the loop.

A probe task sleeps `period` in a loop and records its lag (how much later than asked it woke
up). Optionally a watchdog thread samples the loop thread's stack while the probe is overdue,
so a stall can be traced to the code that caused it. For benchmarks and debugging; the node
never starts one by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class Stall:
    """A probe wake-up later than the threshold, with where the loop thread was meanwhile."""

    lag: float
    stacks: Counter[str] = field(default_factory=Counter)


class LoopWatch:
    """Probe the running loop every `period` seconds; `threshold` marks a stall."""

    def __init__(
        self, *, period: float = 0.005, threshold: float = 0.010, sample_stacks: bool = False
    ) -> None:
        self.period = period
        self.threshold = threshold
        self.lags: list[float] = []
        self.stalls: list[Stall] = []
        self.recording = True
        self._sample = sample_stacks
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._loop_thread = 0
        self._asleep_since = 0.0  # perf_counter when the probe went to sleep
        self._current: Counter[str] = Counter()
        self._lock = threading.Lock()

    def start(self) -> None:
        self._loop_thread = threading.get_ident()
        self._asleep_since = time.perf_counter()
        self._task = asyncio.create_task(self._probe(), name="loopwatch probe")
        if self._sample:
            self._thread = threading.Thread(target=self._watch, name="loopwatch", daemon=True)
            self._thread.start()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._thread is not None:
            self._thread.join()

    async def _probe(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            self._asleep_since = time.perf_counter()
            await asyncio.sleep(self.period)
            lag = loop.time() - before - self.period
            with self._lock:
                stacks, self._current = self._current, Counter()
            if self.recording:
                self.lags.append(lag)
                if lag > self.threshold:
                    self.stalls.append(Stall(lag, stacks))

    def _watch(self) -> None:
        overdue = self.period + self.threshold / 2
        while not self._stop.wait(0.002):
            if time.perf_counter() - self._asleep_since < overdue:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            if frame is None:
                continue
            summary = traceback.extract_stack(frame)[-12:]
            text = "".join(traceback.format_list(summary))
            with self._lock:
                self._current[text] += 1

    # -- figures ------------------------------------------------------------------------

    @property
    def max_lag(self) -> float:
        return max(self.lags, default=0.0)

    def percentile(self, q: int) -> float:
        if len(self.lags) < 2:
            return self.max_lag
        return statistics.quantiles(self.lags, n=100)[q - 1]

    @staticmethod
    def summary(lags: list[float]) -> tuple[float, float]:
        """(max, p99) of these lags."""
        if len(lags) < 2:
            return max(lags, default=0.0), max(lags, default=0.0)
        return max(lags), statistics.quantiles(lags, n=100)[98]

    def report(self, top: int = 5) -> str:
        """The stacks seen most often during stalls, worst first."""
        totals: Counter[str] = Counter()
        for stall in self.stalls:
            totals.update(stall.stacks)
        lines = [f"{len(self.stalls)} stalls over {self.threshold * 1000:.0f} ms"]
        for text, count in totals.most_common(top):
            lines.append(f"-- seen {count} times:\n{text}")
        return "\n".join(lines)
