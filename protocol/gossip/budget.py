"""Token buckets: how fast a peer may push to us, we to it, and we may dial (clock passed in)."""

from __future__ import annotations

_SLACK = 1e-6
"""Tokens short of a whole one that still count as one: refills are floating-point sums, and
a deadline from ready_at() must find its token there (else a timer could fire for nothing,
forever)."""


class TokenBucket:
    """`burst` tokens at most, refilled at `rate` per second; full until first used.

    take() spends tokens if there are enough; take_up_to() spends what there is, up to n;
    charge() spends them anyway, and the bucket is in debt until it refills.
    Time going backwards (a clock that jumps) refills nothing and never raises.
    """

    __slots__ = ("_stamp", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float) -> None:
        if rate < 0 or burst <= 0:
            raise ValueError("need rate >= 0 and burst > 0")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._stamp: float | None = None

    def whole(self, now: float) -> int:
        """Whole tokens there now."""
        self._refill(now)
        return int(self._tokens + _SLACK)

    def take(self, now: float, n: float = 1) -> bool:
        self._refill(now)
        if self._tokens + _SLACK < n:
            return False
        self._tokens = max(0.0, self._tokens - n)
        return True

    def take_up_to(self, now: float, n: int) -> int:
        granted = min(n, self.whole(now))
        self._tokens = max(0.0, self._tokens - granted)
        return granted

    def level(self, now: float) -> float:
        """Tokens there now; below zero while a charge() is being paid off."""
        self._refill(now)
        return self._tokens

    def charge(self, now: float, n: float) -> None:
        """Spend `n` tokens whether or not they are there: what is missing is owed, and
        the bucket refills from below zero (work measured after it was done)."""
        self._refill(now)
        self._tokens -= n

    def ready_at(self, now: float, n: float = 1) -> float:
        """When `n` tokens will be there (now if they already are; inf if never)."""
        self._refill(now)
        missing = n - self._tokens
        if missing <= _SLACK:
            return now
        return now + missing / self.rate if self.rate > 0 else float("inf")

    def _refill(self, now: float) -> None:
        if self._stamp is not None and now > self._stamp:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        if self._stamp is None or now > self._stamp:
            self._stamp = now
