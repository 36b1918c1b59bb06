"""Per-token limits of the API: a rate of posts, and what an idempotency key remembers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

MAX_KEY_LENGTH: Final = 200
"""The longest Idempotency-Key header taken."""


@dataclass(slots=True)
class Bucket:
    """A token bucket: `burst` posts at once, refilled at `rate` per second."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _level: float = field(init=False)
    _at: float = field(init=False)

    def __post_init__(self) -> None:
        self._level, self._at = float(self.burst), self.clock()

    def take(self) -> float:
        """0 when a post may go now (and counts it), else seconds until one may."""
        now = self.clock()
        self._level = min(float(self.burst), self._level + (now - self._at) * self.rate)
        self._at = now
        if self._level >= 1:
            self._level -= 1
            return 0.0
        return (1 - self._level) / self.rate


@dataclass(frozen=True, slots=True)
class Remembered:
    """What a request with an idempotency key asked for, and what it was answered."""

    request: bytes
    status: int
    response: bytes
