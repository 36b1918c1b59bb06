"""A circle's learning challenges: browse them, start one, see who is on it, review work."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from peernode.challenges.model import CHALLENGE_KINDS, Challenge, Submission
from peernode.challenges.text import challenge_line, challenge_lines
from peernode.circles.model import CircleState
from peernode.circles.text import person
from peernode.files import SharedFile
from peernode.files.text import attachments_text
from peernode.node import Node
from tui.challenges.buddy import BuddyDialog
from tui.challenges.review import NewReview, ReviewDialog
from tui.challenges.submit import NewWork, SubmitDialog
from tui.circles.base import CircleBase, Command
from tui.text import Clock


class ChallengesScreen(CircleBase):
    """The challenges of one circle: the list on the left, the one selected on the right."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "I'm on it"),
        Binding("w", "submit", "Submit work"),
        Binding("b", "buddy", "Ask a buddy"),
        Binding("r", "review", "Review work"),
        Binding("escape", "back", "Back"),
    ]
    DEFAULT_CSS = """
    #challenge-list { width: 2fr; height: 1fr; border: round $panel-lighten-2; }
    #challenge-list:focus { border: round $accent; }
    #challenge-side { width: 3fr; height: 1fr; border: round $panel-lighten-2; }
    #challenge-detail { height: auto; padding: 0 1; }
    """

    def __init__(self, node: Node, circle: str, *, clock: Clock) -> None:
        super().__init__(node, circle, clock=clock)
        self.challenges: list[Challenge] = []
        self.shared: list[SharedFile] = []
        """The files shared with the circle (to pick for my work)."""
        self.files_shown: dict[bytes, str] = {}

    followed_kinds = CHALLENGE_KINDS

    def compose(self) -> ComposeResult:
        with Horizontal(id="challenges"):
            yield OptionList(id="challenge-list")
            with VerticalScroll(id="challenge-side"):
                yield Static("Loading…", id="challenge-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.listed.border_title = f"Challenges of #{self.circle}"
        self.listed.focus()

    @property
    def listed(self) -> OptionList:
        return self.query_one("#challenge-list", OptionList)

    @property
    def selected(self) -> Challenge | None:
        index = self.listed.highlighted
        if index is None or not 0 <= index < len(self.challenges):
            return None
        return self.challenges[index]

    async def prepare(self, state: CircleState) -> None:
        self.challenges = await self.node.challenges.in_circle(self.circle)
        self.shared = await self.node.files.list(self.circle)
        named = [file for c in self.challenges for file in c.file_ids()]
        self.files_shown = attachments_text(await self.node.files.known(named))

    def show(self, state: CircleState) -> None:
        previous = self.selected
        self.listed.set_options(
            Option(challenge_line(c, self.name_of), id=c.id.hex()) for c in self.challenges
        )
        ids = [c.id for c in self.challenges]
        if previous is not None and previous.id in ids:
            self.listed.highlighted = ids.index(previous.id)
        elif ids:
            self.listed.highlighted = 0
        self._show_selected()

    def _show_selected(self) -> None:
        detail = self.query_one("#challenge-detail", Static)
        challenge = self.selected
        if challenge is None:
            detail.update(
                "No challenge in this circle yet. Write one with\n"
                f"peernode challenge create {self.circle} TITLE --question … --task … "
                "--criterion … --criterion … --badge …"
            )
            return
        detail.update("\n".join(challenge_lines(challenge, self.name_of, self.files_shown)))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_selected()

    def palette_commands(self) -> list[Command]:
        return [
            ("Challenges: I'm on it", "Join the cohort of the selected one", self.action_start),
            ("Challenges: submit work", "Text and files; again: a revision", self.action_submit),
            ("Challenges: review work", "Peer feedback with the rubric", self.action_review),
            ("Challenges: ask a buddy", "Pair up with a learner on it", self.action_buddy),
        ]

    # -- actions -------------------------------------------------------------------------

    def _selected_or_say(self) -> Challenge | None:
        challenge = self.selected
        if challenge is None:
            self.notify("Select a challenge first.", severity="warning")
        return challenge

    def action_start(self) -> None:
        challenge = self._selected_or_say()
        if challenge is not None:
            self.publish(
                f"You are on “{challenge.current.title}”.",
                lambda: self.node.challenges.start(challenge.id),
            )

    def action_submit(self) -> None:
        challenge = self._selected_or_say()
        if challenge is None:
            return
        revision = any(s.author == self.me for s in challenge.submissions)

        async def submit(work: NewWork) -> None:
            typed = [await self.node.challenges.file_ref(given) for given in work.typed]
            await self.node.challenges.submit(challenge.id, work.text, [*work.files, *typed])

        def chosen(work: NewWork | None) -> None:
            if work is not None:
                self.publish("Work submitted: peers can review it now.", lambda: submit(work))

        dialog = SubmitDialog(challenge.current.title, revision, self.shared)
        self.app.push_screen(dialog, chosen)

    def action_buddy(self) -> None:
        challenge = self._selected_or_say()
        if challenge is None:
            return
        others = [key for key in challenge.cohort if key != self.me]
        if self.me not in challenge.cohort or not others:
            self.notify("Buddies are two learners on the challenge: start it (s), or wait for one.")
            return
        suggested = next(
            (
                b if a == self.me else a
                for a, b in challenge.suggested_buddies()
                if self.me in (a, b)
            ),
            None,
        )
        learners = [(person(key, self.name_of), key) for key in others]

        def chosen(key: bytes | None) -> None:
            if key is not None:
                self.publish(
                    f"Asked {self.name_of(key)} to be your buddy.",
                    lambda: self.node.challenges.buddy(challenge.id, key),
                )

        self.app.push_screen(BuddyDialog(challenge.current.title, learners, suggested), chosen)

    def action_review(self) -> None:
        challenge = self._selected_or_say()
        if challenge is None:
            return
        work = to_review(challenge, self.me)
        if work is None:
            self.notify("No work here waits for your review.", markup=False)
            return
        dialog = ReviewDialog(
            self.name_of(work.author), work.text, challenge.version(work.version).criteria
        )

        def chosen(review: NewReview | None) -> None:
            if review is not None:
                self.publish(
                    "Review shared.",
                    lambda: self.node.challenges.review(
                        work.id, approve=review.approve, meets=review.meets, **review.prompts
                    ),
                )

        self.app.push_screen(dialog, chosen)


def to_review(challenge: Challenge, me: bytes | None) -> Submission | None:
    """The oldest current submission by someone else that I have not reviewed yet."""
    for work in challenge.submissions:
        mine = work.author == me or any(r.reviewer == me for r in work.reviews)
        if not work.replaced and not mine:
            return work
    return None
