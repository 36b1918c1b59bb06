"""The channel list: every channel this node holds notes of, with unread counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option


class ChannelList(OptionList):
    """Choose a channel with Enter or a click. '▸' marks the one shown, '◦' the others; 'N new'
    counts notes that arrived since you last looked at it (this session)."""

    class Chosen(Message):
        def __init__(self, channel: str) -> None:
            super().__init__()
            self.channel = channel

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.channels: list[str] = []
        self.current = ""

    def show(self, channels: Sequence[str], current: str, unread: Mapping[str, int]) -> None:
        """Redraw the list, keeping the highlighted channel highlighted."""
        highlighted = self.highlighted_option.id if self.highlighted_option else current
        self.channels = list(channels)
        self.current = current
        options = []
        for channel in self.channels:
            mark = "▸" if channel == current else "◦"
            count = unread.get(channel, 0)
            suffix = f"  ({count:,} new)" if count and channel != current else ""
            options.append(Option(Content(f"{mark} #{channel}{suffix}"), id=channel))
        self.set_options(options)
        if highlighted in self.channels:
            self.highlighted = self.channels.index(highlighted)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Chosen(event.option.id))
