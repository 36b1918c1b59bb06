"""Every key binding, read from the bindings themselves so the list never drifts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.circles import CirclePage, MeetingScreen, QuestionsScreen, ReportScreen
from tui.feed import FeedView, NoteInput
from tui.screens.main import MainScreen
from tui.screens.profile import ProfileScreen

KEY_NAMES = {
    "up": "↑",
    "down": "↓",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "home": "Home",
    "end": "End",
    "escape": "Esc",
    "enter": "Enter",
    "tab": "Tab",
    "question_mark": "?",
    "slash": "/",
    "left": "←",
    "right": "→",
}

INTRO = (
    "peernode works with the keyboard alone or with the mouse (click a channel, a peer, "
    "a note; scroll the feed). Single-letter keys work when you are not typing a note."
)

EXTRA: dict[str, list[tuple[str, str]]] = {
    "Anywhere": [
        ("Ctrl+P", "Command palette: every action by name"),
        ("Tab / Shift+Tab", "Move between channels, peers, feed and composer"),
    ],
    "Lists (channels, peers)": [
        ("↑ / ↓", "Move"),
        ("Enter / click", "Open the channel, or show the peer's details"),
    ],
    "Composer": [("Ctrl+Z / Ctrl+Y", "Undo / redo (usual editing keys work)")],
    "Dialogs": [
        ("Enter", "Confirm"),
        ("Esc", "Cancel or close"),
        ("y / m / n", "RSVP: answer yes / maybe / no at once"),
    ],
}


def key_display(keys: str) -> str:
    shown = []
    for key in keys.split(","):
        key = key.strip()
        if key in KEY_NAMES:
            shown.append(KEY_NAMES[key])
        elif key.startswith("ctrl+"):
            rest = key_display(key[5:])
            shown.append("Ctrl+" + (rest.upper() if len(rest) == 1 else rest.title()))
        elif len(key) > 1 and key[0] == "f" and key[1:].isdigit():
            shown.append(key.upper())
        else:
            shown.append(key)
    return " / ".join(shown)


def rows_of(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """One row per action: keys bound to the same action share a row."""
    keys: dict[str, list[str]] = {}
    descriptions: dict[str, str] = {}
    for binding in bindings:
        if isinstance(binding, Binding) and binding.description:
            keys.setdefault(binding.action, []).append(key_display(binding.key))
            descriptions.setdefault(binding.action, binding.description)
    return [(" / ".join(keys[action]), descriptions[action]) for action in keys]


def sections(app_bindings: Iterable[BindingType]) -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        ("Anywhere", rows_of(app_bindings) + EXTRA["Anywhere"]),
        ("Main screen (when not typing)", rows_of(MainScreen.BINDINGS)),
        ("Feed", rows_of(FeedView.BINDINGS)),
        ("Composer", rows_of(NoteInput.BINDINGS) + EXTRA["Composer"]),
        ("Lists (channels, peers)", EXTRA["Lists (channels, peers)"]),
        ("Circle page (g)", rows_of(CirclePage.BINDINGS)),
        ("Meeting mode (m)", rows_of(MeetingScreen.BINDINGS)),
        ("Questions and answers (q)", rows_of(QuestionsScreen.BINDINGS)),
        ("Insights report (i)", rows_of(ReportScreen.BINDINGS)),
        ("Profile screen", rows_of(ProfileScreen.BINDINGS)),
        ("Dialogs", EXTRA["Dialogs"]),
    ]


class HelpScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1", "close", "Close help"),
    ]

    def __init__(self, app_bindings: Iterable[BindingType]) -> None:
        super().__init__()
        self.sections = sections(app_bindings)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static("Keys", classes="dialog-title")
            yield Static(INTRO, id="help-intro")
            for title, rows in self.sections:
                table = Table(
                    title=Text(title, style="bold"),
                    title_justify="left",
                    show_header=False,
                    box=None,
                    padding=(0, 2, 0, 0),
                    expand=True,
                )
                table.add_column(width=18, no_wrap=True)
                table.add_column(ratio=1)
                for keys, what in rows:
                    table.add_row(Text(keys, style="bold"), what)
                yield Static(table, classes="help-section")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)
