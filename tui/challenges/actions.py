"""The main screen's way into a circle's learning challenges, for the channel it shows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from peernode.challenges.model import SUBMISSION_KIND
from peernode.challenges.text import review_wanted_text
from peernode.errors import NodeError
from peernode.node import Node
from peernode.views import FeedEntry
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

    def notice_review_requests(self, entries: Sequence[FeedEntry]) -> None:
        """Say when new work waits for my review (one notice per circle and batch)."""
        mine = self.node.public_key if self.node.has_identity else None
        submitted = [
            e.event.id
            for e in entries
            if e.event.kind == SUBMISSION_KIND and e.event.author != mine
        ]
        if submitted and mine is not None:
            self.run_worker(self._notice(submitted), group="review-requests")

    async def _notice(self, submitted: list[bytes]) -> None:
        waiting: dict[str, list[str]] = {}
        try:
            for submission in submitted:
                challenge = await self.node.challenges.waiting_for_me(submission)
                if challenge is not None:
                    waiting.setdefault(challenge.circle, []).append(challenge.current.title)
        except NodeError:
            return  # a notice is a courtesy: the storage problem shows in the status bar
        for circle, titles in waiting.items():
            self.notify(review_wanted_text(titles, circle), title="Review wanted", markup=False)
