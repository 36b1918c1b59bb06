"""What every study-circle screen shares: the circle's state, kept live, and publishing.

A screen follows the node's stream of new events; when one of its circle's kinds
arrives (not notes), or a profile (names change), it reloads `circle_state`
shortly after, once for a whole burst. Publishing happens in a worker; the change then comes back
through the same stream, so every screen and every laptop shows it the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Final

from textual import work
from textual.screen import Screen

from peernode.circles import propose_meeting
from peernode.circles.model import CircleState
from peernode.circles.text import person
from peernode.errors import NodeError
from peernode.node import Node
from peernode.views import CIRCLE_KINDS, PROFILE_KIND
from tui.circles.ask import AskDialog, NewQuestion
from tui.circles.schedule import Candidate, NewMeeting, ScheduleDialog
from tui.text import Clock

REFRESH_DELAY: Final = 0.1
"""Seconds to wait after an event before reloading, so a burst costs one reload."""

Command = tuple[str, str, Callable[[], object]]
"""A command palette entry: name, help text, what it runs."""


class CircleBase(Screen[None]):
    """A screen about one circle: `state` is its newest state, `show()` draws it."""

    def __init__(self, node: Node, circle: str, *, clock: Clock) -> None:
        super().__init__()
        self.node = node
        self.circle = circle
        self.clock = clock
        self.state: CircleState | None = None
        self.loads = 0
        """How many times the state was loaded and shown (tests wait on it)."""
        self.loaded = asyncio.Event()
        self._reload_pending = False

    def on_mount(self) -> None:
        self._follow()
        self.reload()

    @property
    def me(self) -> bytes | None:
        return self.node.public_key if self.node.has_identity else None

    @property
    def exists(self) -> bool:
        return self.state is not None and self.state.exists

    def name_of(self, key: bytes) -> str:
        return self.node.profile_of(key).name

    def show(self, state: CircleState) -> None:
        """Draw `state` (screens override this)."""

    def palette_commands(self) -> list[Command]:
        """This screen's entries in the command palette (screens override this)."""
        return []

    # -- live ------------------------------------------------------------------------

    @work(group="circle-live", exit_on_error=False)
    async def _follow(self) -> None:
        subscription = self.node.subscribe()
        try:
            async for event in subscription:
                ours = event.circle == self.circle and event.kind in CIRCLE_KINDS
                if subscription.take_overflow() or ours or event.kind == PROFILE_KIND:
                    self.changed()
        finally:
            self.node.unsubscribe(subscription)

    def changed(self) -> None:
        """Something of this circle changed: reload soon (once for a burst)."""
        if not self._reload_pending:
            self._reload_pending = True
            self.set_timer(REFRESH_DELAY, self._reload_now)

    def _reload_now(self) -> None:
        self._reload_pending = False
        self.reload()

    @work(group="circle-load", exclusive=True, exit_on_error=False)
    async def reload(self) -> None:
        try:
            state = await self.node.circles.state(self.circle)
            await self.prepare(state)
        except NodeError as exc:
            self.notify(f"Cannot read #{self.circle}: {exc}", severity="error", markup=False)
            return
        self.state = state
        self.show(state)
        self.loads += 1
        self.loaded.set()

    async def prepare(self, state: CircleState) -> None:
        """Load anything else `show()` needs from the node (screens override this)."""

    # -- writing -----------------------------------------------------------------------

    @work(group="circle-publish", exit_on_error=False)
    async def publish(self, done: str, call: Callable[[], Awaitable[object]]) -> None:
        """Run one publishing call of the node; say `done` or why it failed."""
        try:
            await call()
        except NodeError as exc:
            self.notify(str(exc), title="Not shared", severity="error", timeout=8, markup=False)
            return
        self.notify(done, timeout=3, markup=False)

    def needs_circle(self) -> bool:
        """True if the circle exists; else says how to start it."""
        if self.exists:
            return True
        self.notify(
            f"#{self.circle} is not a study circle yet: start it from its circle page (c).",
            severity="warning",
            markup=False,
        )
        return False

    # -- actions every circle screen offers ----------------------------------------------

    def action_back(self) -> None:
        self.dismiss(None)

    def action_schedule(self) -> None:
        if self.needs_circle():
            self._schedule()

    @work(group="circle-dialog", exclusive=True, exit_on_error=False)
    async def _schedule(self) -> None:
        state = self.state
        assert state is not None
        candidates = await self.facilitator_candidates()
        if candidates is None:
            return
        dialog = ScheduleDialog(
            state.title,
            proposal=propose_meeting(state, self.clock()),
            candidates=candidates,
        )

        def chosen(meeting: NewMeeting | None) -> None:
            if meeting is not None:
                self.publish(
                    "Meeting scheduled and shared with the circle.",
                    lambda: self.node.circles.schedule_meeting(
                        self.circle,
                        starts_at=meeting.starts_at,
                        duration_minutes=meeting.duration_minutes,
                        place=meeting.place,
                        facilitator=meeting.facilitator,
                        agenda=meeting.agenda,
                    ),
                )

        self.app.push_screen(dialog, chosen)

    async def facilitator_candidates(self) -> list[Candidate] | None:
        """Members in the order they might facilitate, with why; None (said) on an error."""
        state = self.state
        assert state is not None
        try:
            order = await self.node.circles.suggest_facilitators(self.circle)
        except NodeError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return None
        facilitated = {m.facilitator for m in state.meetings if m.facilitator is not None}
        return [
            Candidate(
                key,
                person(key, self.name_of),
                "facilitated least recently" if key in facilitated else "has not facilitated yet",
            )
            for key in order
        ]

    def action_ask(self) -> None:
        if self.needs_circle():
            self.app.push_screen(AskDialog(self.default_tags()), self._asked)

    def default_tags(self) -> str:
        return ""

    def _asked(self, question: NewQuestion | None) -> None:
        if question is not None:
            self.publish(
                "Question shared with the circle.",
                lambda: self.node.circles.ask(
                    self.circle, question.title, question.text, question.tags
                ),
            )
