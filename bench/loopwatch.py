"""Event-loop stall watch: how late a periodic probe wakes up, and what held the loop.

A probe task sleeps `period` in a loop and records its lag (how much later than asked it woke
up). The lag mixes two causes: a loop step that ran long (our code) and the loop's thread not
getting a core or the GIL (other threads and processes). With `step_cpu`, every loop step's
thread CPU time is measured too: its maximum is what our own code held the loop for.
Optionally a watchdog thread samples the loop thread's stack while the probe is overdue.
For benchmarks and debugging; the node never starts one by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import statistics
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class Stall:
    """A probe wake-up later than the threshold, with where the loop thread was meanwhile."""

    lag: float
    stacks: Counter[str] = field(default_factory=Counter)


class LoopWatch:
    """Probe the running loop every `period` seconds; `threshold` marks a stall."""

    def __init__(
        self,
        *,
        period: float = 0.005,
        threshold: float = 0.010,
        sample_stacks: bool = False,
        step_cpu: bool = False,
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
        self._step_cpu = step_cpu
        self.step_cpu: list[float] = []  # thread CPU seconds of each loop step (step_cpu)
        self.slowest_steps: list[tuple[float, str]] = []
        self._unpatch: Callable[[], None] | None = None
        self.gc_pauses: list[tuple[int, float]] = []  # (generation, seconds) while recording
        self._gc_started = 0.0

    def start(self) -> None:
        self._loop_thread = threading.get_ident()
        self._asleep_since = time.perf_counter()
        self._task = asyncio.create_task(self._probe(), name="loopwatch probe")
        if self._step_cpu:
            self._unpatch = self._patch_steps()
        gc.callbacks.append(self._on_gc)
        if self._sample:
            self._thread = threading.Thread(target=self._watch, name="loopwatch", daemon=True)
            self._thread.start()

    async def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._on_gc)
        if self._unpatch is not None:
            self._unpatch()
            self._unpatch = None
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

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self.recording and threading.get_ident() == self._loop_thread:
            self.gc_pauses.append((info["generation"], time.perf_counter() - self._gc_started))

    def gc_summary(self) -> str:
        """Collections on the loop's thread while recording: count and longest, per generation."""
        parts = []
        for generation in (0, 1, 2):
            pauses = [s for g, s in self.gc_pauses if g == generation]
            if pauses:
                parts.append(f"gen{generation} {len(pauses)}x max {max(pauses) * 1000:.1f} ms")
        return ", ".join(parts) or "none"

    def _patch_steps(self) -> Callable[[], None]:
        """Time every callback the loop runs (asyncio.Handle._run) in thread CPU time."""
        handle = asyncio.events.Handle
        original = handle._run
        watch = self
        thread_time = time.thread_time

        def timed_run(self: asyncio.Handle) -> None:
            started = thread_time()
            try:
                original(self)
            finally:
                spent = thread_time() - started
                if watch.recording:
                    watch.step_cpu.append(spent)
                    if spent > watch.threshold / 2:
                        watch.slowest_steps.append((spent, _describe(self)))

        handle._run = timed_run  # type: ignore[method-assign]

        def unpatch() -> None:
            handle._run = original  # type: ignore[method-assign]

        return unpatch

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

    @property
    def max_step_cpu(self) -> float:
        return max(self.step_cpu, default=0.0)

    def report(self, top: int = 5) -> str:
        """The stacks seen most often during stalls, worst first (and the slowest steps)."""
        if self.slowest_steps:
            worst = sorted(self.slowest_steps, reverse=True)[:top]
            lines = [f"{len(self.slowest_steps)} loop steps over {self.threshold * 500:.0f} ms CPU"]
            lines += [f"  {spent * 1000:.1f} ms: {what}" for spent, what in worst]
            return "\n".join(lines) + "\n" + self._stack_report(top)
        return self._stack_report(top)

    def _stack_report(self, top: int) -> str:
        totals: Counter[str] = Counter()
        for stall in self.stalls:
            totals.update(stall.stacks)
        lines = [f"{len(self.stalls)} stalls over {self.threshold * 1000:.0f} ms"]
        for text, count in totals.most_common(top):
            lines.append(f"-- seen {count} times:\n{text}")
        return "\n".join(lines)


def _describe(handle: asyncio.Handle) -> str:
    """What a loop step ran: the task (name and coroutine) it woke, else the callback."""
    callback = getattr(handle, "_callback", None)
    task = getattr(callback, "__self__", None)
    if isinstance(task, asyncio.Task):
        coro = task.get_coro()
        name = getattr(coro, "__qualname__", type(coro).__name__)
        return f"task {task.get_name()!r} ({name})"
    return repr(handle)[:200]
