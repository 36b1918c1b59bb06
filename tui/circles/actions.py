"""The main screen's way into the study-circle screens, for the channel it shows.

A mixin, so the main screen only lists it among its bases and names the keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from peernode.errors import NodeError
from peernode.node import Node
from tui.circles.base import Command
from tui.circles.meeting import MeetingScreen
from tui.circles.new_circle import NewCircle, NewCircleDialog
from tui.circles.page import CirclePage
from tui.circles.questions import QuestionsScreen
from tui.circles.report import ReportScreen
from tui.text import Clock

if TYPE_CHECKING:
    from textual.screen import Screen

    _Base = Screen[None]
else:
    _Base = object


class CircleActions(_Base):
    """Actions on the study circle of the channel `self.channel` (a study circle lives in
    the channel of its name) of a screen that has `node` and `clock`."""

    node: Node
    channel: str
    clock: Clock

    def action_circle_page(self) -> None:
        self.app.push_screen(CirclePage(self.node, self.channel, clock=self.clock))

    def action_meeting_mode(self) -> None:
        self.app.push_screen(MeetingScreen(self.node, self.channel, clock=self.clock))

    def action_circle_questions(self) -> None:
        self.app.push_screen(QuestionsScreen(self.node, self.channel, clock=self.clock))

    def action_circle_report(self) -> None:
        self.app.push_screen(ReportScreen(self.node, self.channel, clock=self.clock))

    def action_new_circle(self) -> None:
        self.run_worker(self._new_circle(), group="new-circle", exclusive=True)

    async def _new_circle(self) -> None:
        try:
            existing = [summary.slug for summary in await self.node.circles.known()]
        except NodeError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.app.push_screen(NewCircleDialog(self.channel, existing), self._start_circle)

    def _start_circle(self, new: NewCircle | None) -> None:
        if new is None:
            return
        self.app.push_screen(CirclePage(self.node, new.slug, clock=self.clock, start=new))

    def circle_commands(self) -> list[Command]:
        here = f"#{self.channel}"
        return [
            (f"Circle: page of {here}", "Description, members, meetings", self.action_circle_page),
            (f"Circle: meeting mode of {here}", "Run a meeting together", self.action_meeting_mode),
            (
                f"Circle: questions of {here}",
                "Open, answered, resolved; who can help",
                self.action_circle_questions,
            ),
            (f"Circle: insights report of {here}", "Show and export", self.action_circle_report),
            (
                "Circle: start a study circle",
                "Title, topic, resources, rhythm",
                self.action_new_circle,
            ),
        ]
