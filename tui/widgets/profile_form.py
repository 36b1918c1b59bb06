"""The fields of a profile: display name, what I'm learning, what I can help with."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from peernode.views import Profile

NAME_CHARS = 40
ABOUT_CHARS = 200


@dataclass(frozen=True, slots=True)
class ProfileFields:
    name: str
    learning: str
    can_help: str


class ProfileForm(Vertical):
    """Three inputs; Enter moves on, and on the last one submits (the screen decides)."""

    def __init__(self, profile: Profile | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.profile = profile

    def compose(self) -> ComposeResult:
        profile = self.profile
        with Horizontal(classes="form-row"):
            yield Label("Display name", classes="form-label")
            yield Input(
                profile.name if profile else "",
                placeholder="how others see you, e.g. Ana",
                max_length=NAME_CHARS,
                id="name",
            )
        with Horizontal(classes="form-row"):
            yield Label("I'm learning", classes="form-label")
            yield Input(
                profile.learning if profile else "",
                placeholder="optional, e.g. Rust, linear algebra",
                max_length=ABOUT_CHARS,
                id="learning",
            )
        with Horizontal(classes="form-row"):
            yield Label("I can help with", classes="form-label")
            yield Input(
                profile.can_help if profile else "",
                placeholder="optional, e.g. Python, essay feedback",
                max_length=ABOUT_CHARS,
                id="can-help",
            )
        yield Static("", id="form-error", markup=False)

    @property
    def fields(self) -> ProfileFields:
        return ProfileFields(
            name=self.query_one("#name", Input).value.strip(),
            learning=self.query_one("#learning", Input).value.strip(),
            can_help=self.query_one("#can-help", Input).value.strip(),
        )

    def show_error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(message)
        self.set_class(bool(message), "-error")

    def check(self) -> ProfileFields | None:
        """The fields if they can be published; else shows why and returns None."""
        fields = self.fields
        if not fields.name:
            self.show_error("Please enter a display name.")
            self.query_one("#name", Input).focus()
            return None
        self.show_error("")
        return fields

    def on_input_changed(self, event: Input.Changed) -> None:
        """What was wrong is out of date once the learner types: it goes (Start checks again)."""
        if self.has_class("-error"):
            self.show_error("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in a field moves to the next one; the last one bubbles up to submit."""
        if event.input.id != "can-help":
            event.stop()
            self.screen.focus_next()
