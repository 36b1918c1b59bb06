"""The shape every study-circle form shares: labelled fields, an error line, OK / Cancel.

Enter moves to the next field and, on the last one, submits; Ctrl+S submits from
anywhere; Esc cancels. A form checks what was typed (`result()` raises ValueError
with a plain message) and dismisses with plain data: the screen that opened it
does the publishing.
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

ResultT = TypeVar("ResultT")


def field_row(label: str, widget: Widget) -> Horizontal:
    """One labelled field on one line."""
    return Horizontal(Label(label, classes="form-label"), widget, classes="form-row")


def note(text: str) -> Static:
    """A line (or a few) of plain text above a form's fields."""
    return Static(text, classes="dialog-text", markup=False)


def line_input(value: str = "", *, placeholder: str = "", id: str, max_length: int = 0) -> Input:
    return Input(value, placeholder=placeholder, id=id, max_length=max_length, compact=True)


class FormDialog(ModalScreen[ResultT | None], Generic[ResultT]):
    """Subclasses give `heading`, `fields()` (and `intro()`), and `result()`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "OK"),
    ]

    heading = ""
    ok_label = "OK"

    def intro(self) -> ComposeResult:
        """Lines shown above the fields."""
        yield from ()

    def fields(self) -> ComposeResult:
        yield from ()

    def result(self) -> ResultT:
        """What the form dismisses with; ValueError('why') when the input is not right."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form-dialog"):
            yield Static(self.heading, classes="dialog-title", markup=False)
            yield from self.intro()
            with VerticalScroll(classes="form-fields", can_focus=False):
                yield from self.fields()
            yield Static("", id="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.ok_label, variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def value(self, selector: str) -> str:
        """The trimmed text of the input `selector`."""
        return self.query_one(selector, Input).value.strip()

    def show_error(self, message: str) -> None:
        self.query_one("#dialog-error", Static).update(message)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        fields = [w for w in self.query(".form-fields Input, .form-fields Select") if w.can_focus]
        if fields and event.input is fields[-1]:
            self.action_submit()
        else:
            self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.action_submit()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        try:
            value = self.result()
        except ValueError as exc:
            self.show_error(f"⚠ {exc}")
            return
        self.dismiss(value)


def selected(select: Select[str]) -> str | None:
    """The chosen value of a Select, or None when it is blank."""
    value = select.value
    return value if isinstance(value, str) else None
