"""The circles list: every circle this node holds notes of, with unread counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option


class CircleList(OptionList):
    """Choose a circle with Enter or a click. '▸' marks the one shown, '◦' the others; 'N new'
    counts notes that arrived since you last looked at it (this session)."""

    class Chosen(Message):
        def __init__(self, circle: str) -> None:
            super().__init__()
            self.circle = circle

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.circles: list[str] = []
        self.current = ""

    def show(self, circles: Sequence[str], current: str, unread: Mapping[str, int]) -> None:
        """Redraw the list, keeping the highlighted circle highlighted."""
        highlighted = self.highlighted_option.id if self.highlighted_option else current
        self.circles = list(circles)
        self.current = current
        options = []
        for circle in self.circles:
            mark = "▸" if circle == current else "◦"
            count = unread.get(circle, 0)
            suffix = f"  ({count:,} new)" if count and circle != current else ""
            options.append(Option(Content(f"{mark} #{circle}{suffix}"), id=circle))
        self.set_options(options)
        if highlighted in self.circles:
            self.highlighted = self.circles.index(highlighted)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Chosen(event.option.id))
