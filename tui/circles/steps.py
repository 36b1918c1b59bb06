"""The meeting's agenda as a row of steps: the current one marked ▶ and bold, others clickable."""

from __future__ import annotations

from typing import Final

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

STEPS: Final = ("Check-in", "Coursework", "Activity", "Plus/delta")


def steps_markup(current: int) -> str:
    parts = []
    for index, name in enumerate(STEPS):
        if index == current:
            parts.append(f"[b reverse] ▶ {index + 1} {name} [/]")
        else:
            parts.append(f"[@click=screen.go_step({index})]   {index + 1} {name} [/]")
    return "│".join(parts) + f"  part {current + 1} of {len(STEPS)}"


class StepBar(Static):
    """Shows `step` (0-3); clicking a step runs the screen's go_step action."""

    step: reactive[int] = reactive(0)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Content.from_markup(steps_markup(0)), id=id)

    def watch_step(self, step: int) -> None:
        self.update(Content.from_markup(steps_markup(step)))

    @property
    def text(self) -> str:
        return Content.from_markup(steps_markup(self.step)).plain
