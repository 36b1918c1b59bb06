"""Run one input through a target and judge it: crash, hang, memory, or fine.

A finding is any exception outside the target's `allowed` types (including
`InvariantViolation`), an input that takes longer than `Limits.seconds`, or one whose peak
traced allocation exceeds `Limits.memory_bytes` above what was allocated before the call.
"""

from __future__ import annotations

import hashlib
import signal
import time
import traceback
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Final

from fuzz.targets import Target

MIB: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    seconds: float = 1.0
    """Per-input CPU-time limit; slower inputs are hangs (CPU time, so a busy machine does
    not turn a slow scheduler into a finding)."""
    memory_bytes: int = 8 * MIB
    """Per-input bound on the tracemalloc peak above the allocation before the call."""
    hard_seconds: float = 10.0
    """A SIGALRM interrupts an input this slow (only with `alarm=True`)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    result: str  # "accepted" or the name of the allowed exception that rejected the input
    detail: str  # the rejection's message (for outcome-guided corpus growth)
    seconds: float  # CPU time
    peak_bytes: int  # tracemalloc peak above the baseline; 0 when memory is not traced


class Finding(Exception):
    """An input that breaks the rules; `kind` is crash, hang, memory or invariant."""

    def __init__(self, kind: str, target: str, data: bytes, message: str, trace: str = "") -> None:
        super().__init__(f"{target}: {kind}: {message}")
        self.kind = kind
        self.target = target
        self.data = data
        self.message = message
        self.trace = trace

    @property
    def digest(self) -> str:
        return hashlib.sha1(self.data).hexdigest()[:16]

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.target}-{self.kind}-{self.digest}.bin"
        path.write_bytes(self.data)
        path.with_suffix(".txt").write_text(f"{self}\n\n{self.trace}")
        return path


class _Alarm(BaseException):
    """Raised from SIGALRM: a BaseException, so no `except Exception` in a decoder eats it."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _Alarm


@contextmanager
def alarm_handler() -> Iterator[None]:
    """Install the SIGALRM handler `run_one(..., alarm=True)` needs (main thread only)."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def traced_memory() -> Iterator[None]:
    """tracemalloc on for the block (one frame per trace: cheapest), as it was after."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start(1)
    try:
        yield
    finally:
        if started:
            tracemalloc.stop()


def run_one(target: Target, data: bytes, limits: Limits, *, alarm: bool = False) -> Outcome:
    """Feed `data` to `target`; return how it went or raise Finding."""
    tracing = tracemalloc.is_tracing()
    base = 0
    if tracing:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
    if alarm:
        signal.setitimer(signal.ITIMER_REAL, limits.hard_seconds)
    start = time.process_time()
    try:
        returned = target.func(data)
        result, detail = "accepted", returned if isinstance(returned, str) else ""
    except target.allowed as exc:
        result, detail = type(exc).__name__, str(exc)
    except _Alarm:
        raise Finding(
            "hang", target.name, data, f"still running after {limits.hard_seconds:.0f} s"
        ) from None
    except Exception as exc:
        kind = "invariant" if isinstance(exc, AssertionError) else "crash"
        message = f"{type(exc).__name__}: {exc}"[:500]
        raise Finding(kind, target.name, data, message, traceback.format_exc()) from exc
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
    seconds = time.process_time() - start
    peak = tracemalloc.get_traced_memory()[1] - base if tracing else 0
    if seconds > limits.seconds:
        raise Finding("hang", target.name, data, f"took {seconds:.2f} s (limit {limits.seconds})")
    if peak > limits.memory_bytes:
        raise Finding(
            "memory",
            target.name,
            data,
            f"peak {peak / MIB:.1f} MiB above baseline (limit {limits.memory_bytes / MIB:.0f})",
        )
    return Outcome(result, detail, seconds, peak)
