"""The main screen's way into a circle's learning challenges, for the channel it shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from peernode.node import Node
from tui.challenges.screen import ChallengesScreen
from tui.circles.base import Command
from tui.text import Clock

if TYPE_CHECKING:
    from textual.screen import Screen

    _Base = Screen[None]
else:
    _Base = object


class ChallengeActions(_Base):
    """Open the challenges of the circle of `self.channel` (a mixin, like CircleActions)."""

    node: Node
    channel: str
    clock: Clock

    def action_circle_challenges(self) -> None:
        self.app.push_screen(ChallengesScreen(self.node, self.channel, clock=self.clock))

    def challenge_commands(self) -> list[Command]:
        return [
            (
                f"Circle: learning challenges of #{self.channel}",
                "Start one, review work, see badges",
                self.action_circle_challenges,
            )
        ]
