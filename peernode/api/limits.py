"""Per-token limits of the API: a rate of posts, and the idempotency keys remembered."""

from __future__ import annotations

import time
from collections import OrderedDict
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


class IdempotencyKeys:
    """The last `size` idempotency keys of one token and their answers (in memory:
    a node restarted forgets them, and a retry after that posts again)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._answers: OrderedDict[str, Remembered] = OrderedDict()

    def get(self, key: str) -> Remembered | None:
        return self._answers.get(key)

    def put(self, key: str, answer: Remembered) -> None:
        self._answers[key] = answer
        self._answers.move_to_end(key)
        while len(self._answers) > self._size:
            self._answers.popitem(last=False)
