"""The activity's time box: a countdown that a learner starts, pauses and resets.

The countdown (`Countdown`) is plain state kept for the whole run of the app,
one per meeting (`time_boxes_of`), so leaving meeting mode neither stops nor
resets it; the widget (`TimeBox`) only shows it, as a line with a bar or, for a
projector, in big digits too. `time_source` (seconds, monotonic) is an attribute
of the countdown so tests can drive the clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Digits, Static

TICK: Final = 0.25
BAR_WIDTH: Final = 30

STATE_WORDS: Final = {
    "time is up": "⏰ Time is up",
    "running": "▶ running",
    "paused": "⏸ paused",
    "not started": "■ not started",
}


def clock_text(seconds: float) -> str:
    whole = max(0, int(seconds + 0.999))  # 0.2 s left still shows 0:01
    minutes, rest = divmod(whole, 60)
    return f"{minutes:02d}:{rest:02d}"


class Countdown:
    """Counts down `minutes` on `time_source`; `big` is how it is shown (kept with it)."""

    def __init__(self, minutes: int, *, time_source: Callable[[], float] = time.monotonic) -> None:
        self.minutes = minutes
        self.time_source = time_source
        self.big = False
        self._started_at: float | None = None
        self._left = float(minutes * 60)
        self._rang = False

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
        """A new length (the agenda changed); starts again from the top if untouched."""
        if minutes != self.minutes and self.state == "not started":
            self.minutes = minutes
            self.reset()

    def toggle(self) -> None:
        if self.running:
            self._left = self.remaining
            self._started_at = None
        elif self.remaining > 0:
            self._started_at = self.time_source()

    def reset(self) -> None:
        self._started_at = None
        self._left = self.total
        self._rang = False

    def ring_due(self) -> bool:
        """True once, when the time has just run out (then it stops)."""
        if self.running and self.remaining <= 0:
            self._left = 0.0
            self._started_at = None
            if not self._rang:
                self._rang = True
                return True
        return False

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
        return f"{clock_text(left)} left of {self.minutes} min   {STATE_WORDS[self.state]}\n{bar}"


class TimeBoxes:
    """The countdown of each meeting, by meeting id, for as long as the app runs."""

    def __init__(self) -> None:
        self._by_meeting: dict[bytes, Countdown] = {}

    def of(self, meeting_id: bytes, minutes: int, time_source: Callable[[], float]) -> Countdown:
        """The meeting's countdown, made on first use with `minutes` and `time_source`."""
        countdown = self._by_meeting.get(meeting_id)
        if countdown is None:
            countdown = self._by_meeting[meeting_id] = Countdown(minutes, time_source=time_source)
        return countdown


def time_boxes_of(app: object) -> TimeBoxes:
    """The time boxes kept on `app` (made on first use): they live as long as the app."""
    boxes = getattr(app, "time_boxes", None)
    if not isinstance(boxes, TimeBoxes):
        boxes = TimeBoxes()
        setattr(app, "time_boxes", boxes)  # noqa: B010 - an attribute the app does not declare
    return boxes


class TimeBox(Vertical):
    """Shows `countdown`: big digits (when `countdown.big`), then a line in words and a bar."""

    DEFAULT_CSS: ClassVar[str] = """
    TimeBox { height: auto; }
    TimeBox Digits { display: none; width: auto; margin: 0 0 1 0; }
    TimeBox.-big Digits { display: block; }
    """

    def __init__(
        self, countdown: Countdown, *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.countdown = countdown

    def compose(self) -> ComposeResult:
        yield Digits("", id="time-digits")
        yield Static("", id="time-line", markup=False)

    def on_mount(self) -> None:
        self.set_interval(TICK, self.tick)
        self.tick()

    def show(self, countdown: Countdown) -> None:
        """Show another countdown (meeting mode found its meeting)."""
        self.countdown = countdown
        self.tick()

    @property
    def text(self) -> str:
        return self.countdown.text

    def toggle(self) -> None:
        self.countdown.toggle()
        self.tick()

    def reset(self) -> None:
        self.countdown.reset()
        self.tick()

    def toggle_big(self) -> None:
        self.countdown.big = not self.countdown.big
        self.tick()

    def tick(self) -> None:
        countdown = self.countdown
        if countdown.ring_due():
            self.app.bell()
        self.set_class(countdown.big, "-big")
        self.query_one(Digits).update(clock_text(countdown.remaining))
        self.query_one("#time-line", Static).update(countdown.text)
