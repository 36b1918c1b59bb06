"""The activity's time box: a countdown that a learner starts, pauses and resets.

`time_source` (seconds, monotonic) is an attribute so tests can drive the clock;
the widget redraws itself a few times a second while it runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from textual.widgets import Static

TICK: Final = 0.25
BAR_WIDTH: Final = 30


def clock_text(seconds: float) -> str:
    whole = max(0, int(seconds + 0.999))  # 0.2 s left still shows 0:01
    minutes, rest = divmod(whole, 60)
    return f"{minutes:02d}:{rest:02d}"


class TimeBox(Static):
    """Counts down `minutes`; says 'running', 'paused' or 'time is up' in words."""

    def __init__(
        self,
        minutes: int = 20,
        *,
        time_source: Callable[[], float] = time.monotonic,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__("", id=id, classes=classes, markup=False)
        self.minutes = minutes
        self.time_source = time_source
        self._started_at: float | None = None
        self._left = float(minutes * 60)
        self._rang = False

    def on_mount(self) -> None:
        self.set_interval(TICK, self.tick)
        self.tick()

    @property
    def total(self) -> float:
        return float(self.minutes * 60)

    @property
    def running(self) -> bool:
        return self._started_at is not None

    @property
    def remaining(self) -> float:
        if self._started_at is None:
            return max(0.0, self._left)
        return max(0.0, self._left - (self.time_source() - self._started_at))

    def set_minutes(self, minutes: int) -> None:
        """A new length (the agenda changed); restarts from the top if not running."""
        if minutes != self.minutes and not self.running:
            self.minutes = minutes
            self.reset()

    def toggle(self) -> None:
        if self.running:
            self._left = self.remaining
            self._started_at = None
        elif self.remaining > 0:
            self._started_at = self.time_source()
        self.tick()

    def reset(self) -> None:
        self._started_at = None
        self._left = self.total
        self._rang = False
        self.tick()

    @property
    def state(self) -> str:
        if self.remaining <= 0:
            return "time is up"
        if self.running:
            return "running"
        return "paused" if self._left < self.total else "not started"

    @property
    def text(self) -> str:
        left = self.remaining
        done = 1 - left / self.total if self.total else 1
        filled = round(done * BAR_WIDTH)
        bar = "█" * filled + "░" * (BAR_WIDTH - filled)
        state = {
            "time is up": "⏰ Time is up",
            "running": "▶ running",
            "paused": "⏸ paused",
            "not started": "■ not started",
        }[self.state]
        return f"{clock_text(left)} left of {self.minutes} min   {state}\n{bar}"

    def tick(self) -> None:
        if self.running and self.remaining <= 0:
            self._left = 0.0
            self._started_at = None
            if not self._rang:
                self._rang = True
                self.app.bell()
        self.update(self.text)
