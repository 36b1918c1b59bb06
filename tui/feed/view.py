"""The feed of one channel: a Line API view over a bounded window of notes.

The window holds a few pages of consecutive notes (never the whole channel);
the screen fills it from `FeedPager` when this view asks for older or newer
notes. Each note is rendered once per width and cached, so scrolling only
copies lines, whatever the size of the channel.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from typing import ClassVar, Final, Literal

from rich.console import RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from peernode.circles.model import CircleState
from peernode.feed_text import (
    ANSWER_KIND,
    FeedContext,
    folded,
    parent_of,
    reply_hint,
    show_entry,
)
from peernode.text import relative_time, short_fingerprint
from peernode.views import FILE_KIND, MARK_TEXT, NOTE_KIND, FeedEntry
from tui.feed.entry import renderable
from tui.feed.pager import key_of
from tui.feed.window import FeedWindow, Row, thread
from tui.text import Clock

INDENT: Final = 2
MAX_DEPTH: Final = 6
_ORPHAN: Final = {
    NOTE_KIND: "reply to an earlier note",
    ANSWER_KIND: "answer to an earlier question",
}
"""What the header says of a row whose parent is not loaded (a resolution: about a question)."""


class FeedView(ScrollView, can_focus=True):
    """The notes of the selected channel, newest at the bottom."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "feed--name",
        "feed--meta",
        "feed--selected",
        "feed--hint",
        "feed--unknown",
        "feed--headline",
        "feed--detail",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "previous", "Previous note", show=False),
        Binding("down,j", "next", "Next note", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "oldest", "Oldest notes", show=False),
        Binding("end", "newest", "Newest notes", show=False),
        Binding("r,enter", "reply", "Reply"),
    ]

    class NeedOlder(Message):
        """Scrolled past the oldest loaded note: load the page before it."""

    class NeedNewer(Message):
        """Scrolled past the newest loaded note, which is not the newest there is."""

    class JumpOldest(Message):
        """Home: show the first notes of the channel."""

    class JumpNewest(Message):
        """End: show the latest notes of the channel."""

    class ReplyRequested(Message):
        def __init__(self, entry: FeedEntry) -> None:
            super().__init__()
            self.entry = entry

    class FileRequested(Message):
        """Enter on a shared file: open its card (Get, Save, Open)."""

        def __init__(self, entry: FeedEntry) -> None:
            super().__init__()
            self.entry = entry

    def __init__(
        self,
        clock: Clock,
        *,
        name_of: Callable[[bytes], str] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.name_of = name_of
        self.circle: CircleState | None = None
        """The state of the circle of the channel shown (meeting cards, questions' answers)."""
        self.channel = ""
        self.fetching = False
        self.unseen = 0
        """Notes that arrived while the newest ones are not loaded."""
        self.window = FeedWindow()
        self.selected: bytes | None = None
        self._rows: list[Row] = []
        self._index: dict[bytes, int] = {}
        self._starts: list[int] = []
        self._total = 1
        self._width = 0
        self._bodies: dict[tuple[bytes, int], list[Strip]] = {}
        self._pending: Literal["previous", "next"] | None = None

    # -- what the screen calls ------------------------------------------------------

    def show(
        self,
        channel: str,
        entries: list[FeedEntry],
        *,
        at_oldest: bool,
        at_newest: bool,
        end: Literal["oldest", "newest"] = "newest",
    ) -> None:
        """Replace everything with these entries and select the first or last."""
        self.channel = channel
        self.fetching = False
        self._pending = None
        if at_newest:
            self.unseen = 0
        self.window.reset(entries, at_oldest=at_oldest, at_newest=at_newest)
        self._relayout(anchor=False)
        if end == "newest":
            self._select_index(len(self._rows) - 1, scroll=False)
            self.scroll_end(animate=False, x_axis=False)
        else:
            self._select_index(0, scroll=False)
            self.scroll_home(animate=False, x_axis=False)

    def add_older(self, entries: list[FeedEntry], *, at_oldest: bool) -> None:
        self.fetching = False
        before = self._selected_index()
        self.window.add_older(entries, at_oldest=at_oldest)
        self._relayout()
        if self._pending == "previous" and before is not None:
            self._select_index(self._selected_index_or(0) - 1)
        self._pending = None

    def add_newer(self, entries: list[FeedEntry], *, at_newest: bool) -> None:
        self.fetching = False
        if at_newest:
            self.unseen = 0
        self.window.add_newer(entries, at_newest=at_newest)
        self._relayout()
        if self._pending == "next":
            self._select_index(self._selected_index_or(-1) + 1)
        self._pending = None

    def add_live(self, entries: list[FeedEntry]) -> None:
        """Show notes that just arrived, following the bottom if the reader is there."""
        following = self.scroll_y >= self.max_scroll_y - 1
        last_selected = self.selected is None or self._selected_index() == len(self._rows) - 1
        newest = self.window.newest
        for entry in entries:
            added = self.window.add_live(entry)
            if not added and newest is not None and key_of(entry) > newest and not folded(entry):
                self.unseen += 1  # the newest notes are not loaded: count it below
        self._relayout()
        if following and self.window.at_newest:
            if last_selected:
                self._select_index(len(self._rows) - 1, scroll=False)
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def refresh_names(self) -> None:
        self.refresh()

    def show_circle(self, state: CircleState | None) -> None:
        """The channel's circle changed (or was read): render its events again."""
        self.circle = state
        self._bodies.clear()
        self._relayout()

    @property
    def selected_entry(self) -> FeedEntry | None:
        index = self._selected_index()
        return None if index is None else self._rows[index].entry

    @property
    def rows(self) -> list[Row]:
        return list(self._rows)

    # -- keys and mouse ---------------------------------------------------------------

    def action_previous(self) -> None:
        index = self._selected_index()
        if index is None:
            self._select_index(len(self._rows) - 1)
        elif index > 0:
            self._select_index(index - 1)
        else:
            self._ask_older(move=True)

    def action_next(self) -> None:
        index = self._selected_index()
        if index is None:
            self._select_index(0)
        elif index < len(self._rows) - 1:
            self._select_index(index + 1)
        else:
            self._ask_newer(move=True)

    def action_page_up(self) -> None:
        if self.scroll_y <= 0:
            self._ask_older(move=True)
            return
        self.scroll_page_up(animate=False)
        self.call_after_refresh(self._select_visible, "top")

    def action_page_down(self) -> None:
        if self.scroll_y >= self.max_scroll_y:
            self._ask_newer(move=True)
            return
        self.scroll_page_down(animate=False)
        self.call_after_refresh(self._select_visible, "bottom")

    def action_oldest(self) -> None:
        if self.window.at_oldest:
            self._select_index(0, scroll=False)
            self.scroll_home(animate=False, x_axis=False)
        elif not self.fetching:
            self.fetching = True
            self.post_message(self.JumpOldest())

    def action_newest(self) -> None:
        if self.window.at_newest:
            self._select_index(len(self._rows) - 1, scroll=False)
            self.scroll_end(animate=False, x_axis=False)
        elif not self.fetching:
            self.fetching = True
            self.post_message(self.JumpNewest())

    def action_reply(self) -> None:
        entry = self.selected_entry
        if entry is None or not entry.known:
            return
        if entry.event.kind == FILE_KIND and not entry.deleted:
            self.post_message(self.FileRequested(entry))
            return
        hint = reply_hint(entry)
        if hint is None:
            self.post_message(self.ReplyRequested(entry))
        else:
            self.notify(hint, timeout=4, markup=False)

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.scroll_y <= 0:
            self._ask_older(move=False)

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if self.scroll_y >= self.max_scroll_y:
            self._ask_newer(move=False)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 < old_value:
            self._ask_older(move=False)
        elif new_value >= self.max_scroll_y > old_value:
            self._ask_newer(move=False)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = self._row_at(offset.y + round(self.scroll_y))
        if index is not None:
            self._select_index(index, scroll=False)
            if event.chain == 2:
                self.action_reply()

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()

    def on_mount(self) -> None:
        self.set_interval(30, self.refresh)  # relative times move on

    def _ask_older(self, *, move: bool) -> None:
        if not self.window.at_oldest and not self.fetching and self._rows:
            self.fetching = True
            self._pending = "previous" if move else None
            self.post_message(self.NeedOlder())

    def _ask_newer(self, *, move: bool) -> None:
        if not self.window.at_newest and not self.fetching and self._rows:
            self.fetching = True
            self._pending = "next" if move else None
            self.post_message(self.NeedNewer())

    # -- selection ------------------------------------------------------------------

    def _selected_index(self) -> int | None:
        return None if self.selected is None else self._index.get(self.selected)

    def _selected_index_or(self, default: int) -> int:
        index = self._selected_index()
        return default if index is None else index

    def _select_index(self, index: int, *, scroll: bool = True) -> None:
        if not self._rows:
            self.selected = None
            self.refresh()
            return
        index = max(0, min(index, len(self._rows) - 1))
        self.selected = self._rows[index].entry.event.id
        self.refresh()
        if scroll:
            start = self._starts[index]
            height = self._row_end(index) - start
            region = Region(0, start, max(self._width, 1), height)
            self.scroll_to_region(region, animate=False, force=True, immediate=True)

    def _select_visible(self, edge: Literal["top", "bottom"]) -> None:
        top = round(self.scroll_y)
        line = top if edge == "top" else top + max(self.scrollable_content_region.height - 1, 0)
        index = self._row_at(line)
        if index is not None:
            self._select_index(index, scroll=False)

    def _row_at(self, line: int) -> int | None:
        if not self._rows or line < self._starts[0]:
            return 0 if self._rows else None
        index = bisect_right(self._starts, line) - 1
        return min(index, len(self._rows) - 1)

    def _row_end(self, index: int) -> int:
        if index + 1 < len(self._starts):
            return self._starts[index + 1]
        return self._total - (0 if self.window.at_newest else 1)

    # -- layout ---------------------------------------------------------------------

    def _relayout(self, *, anchor: bool = True) -> None:
        """Recompute rows and line offsets; keep the line at the top where it was."""
        width = self.scrollable_content_region.width
        anchor_id: bytes | None = None
        anchor_offset = 0
        if anchor and self._rows:
            top = round(self.scroll_y)
            index = self._row_at(top)
            if index is not None:
                anchor_id = self._rows[index].entry.event.id
                anchor_offset = top - self._starts[index]
        if width != self._width:
            self._bodies.clear()
            self._width = width
        self._rows = thread(self.window.entries)
        self._index = {row.entry.event.id: i for i, row in enumerate(self._rows)}
        self._bodies = {key: body for key, body in self._bodies.items() if key[0] in self._index}
        self._starts = []
        y = 1  # the hint line at the top
        for row in self._rows:
            self._starts.append(y)
            y += 2 + len(self._body(row, width))
        self._total = y + (0 if self.window.at_newest else 1)
        self.virtual_size = Size(width, self._total)
        if anchor_id is not None and anchor_id in self._index:
            target = self._starts[self._index[anchor_id]] + anchor_offset
            self.scroll_to(y=target, animate=False, force=True, immediate=True)
        self.refresh()
        self.call_after_refresh(self._sync_scrollbar)

    def _sync_scrollbar(self) -> None:
        """Scrolling right after the size changed can leave the scrollbar behind."""
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y

    def _body(self, row: Row, width: int) -> list[Strip]:
        event = row.entry.event
        depth = min(row.depth, MAX_DEPTH)
        cached = self._bodies.get((event.id, depth))
        if cached is not None:
            return cached
        indent = depth * INDENT + 2
        inner = max(width - indent, 10)
        renderable = self._renderable(row.entry, threaded=depth > 0)
        console = self.app.console
        options = console.options.update(width=inner, min_width=inner)
        lines = console.render_lines(renderable, options, pad=False)
        pad = [Segment(" " * indent)]
        strips = [Strip(pad + line) for line in lines] or [Strip(pad)]
        while len(strips) > 1 and not strips[-1].text.strip():
            strips.pop()
        self._bodies[event.id, depth] = strips
        return strips

    def _renderable(self, entry: FeedEntry, threaded: bool) -> RenderableType:
        shown = show_entry(entry, self._feed_context(), threaded=threaded)
        return renderable(
            entry, shown, lambda name: self.get_component_rich_style(name, partial=True)
        )

    def _feed_context(self) -> FeedContext:
        name_of = self.name_of or (lambda key: short_fingerprint(key))
        circles = {self.circle.slug: self.circle} if self.circle is not None else {}
        return FeedContext(name_of, circles)

    # -- rendering --------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        line = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        strip = self._line(line, width)
        return strip.crop_extend(scroll_x, scroll_x + width, base).apply_style(base)

    def _line(self, line: int, width: int) -> Strip:
        if line == 0:
            return self._hint(self._top_hint(), width)
        if line >= self._total:
            return Strip.blank(width)
        if not self.window.at_newest and line == self._total - 1:
            more = f"{self.unseen:,} new and more " if self.unseen else "more "
            return self._hint(f"↓ {more}notes below: scroll down or press End", width)
        index = self._row_at(line)
        if index is None:
            return Strip.blank(width)
        row = self._rows[index]
        offset = line - self._starts[index]
        selected = row.entry.event.id == self.selected
        body = self._body(row, width)
        if offset == 0:
            strip = self._header(row, width, selected)
        elif offset <= len(body):
            strip = body[offset - 1]
        else:
            return Strip.blank(width)  # the gap between notes
        if selected:
            style = self.get_component_rich_style("feed--selected")
            strip = strip.crop_extend(0, width, None).apply_style(style)
        return strip

    def _top_hint(self) -> str:
        if self.fetching and not self._rows:
            return "Loading notes…"
        if not self.window.at_oldest:
            return "↑ older notes above: scroll up or press Home"
        if not self._rows:
            return f"No notes in #{self.channel} yet. Write the first one below."
        return f"── start of #{self.channel} ──"

    def _hint(self, text: str, width: int) -> Strip:
        style = self.get_component_rich_style("feed--hint", partial=True)
        content = Text(text, style=style, no_wrap=True, overflow="ellipsis")
        content.truncate(width, overflow="ellipsis")
        return Strip(content.render(self.app.console), content.cell_len)

    def _header(self, row: Row, width: int, selected: bool) -> Strip:
        entry = row.entry
        event = entry.event
        name = self.name_of(event.author) if self.name_of is not None else entry.author_name
        meta = self.get_component_rich_style("feed--meta", partial=True)
        depth = min(row.depth, MAX_DEPTH)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" " * (depth * INDENT))
        text.append("▶ " if selected else "  ", Style(bold=True))
        if parent_of(entry) is not None:
            text.append("↳ ", meta)
        text.append(name, self.get_component_rich_style("feed--name", partial=True))
        when = relative_time(entry.shown_at, self.clock())
        text.append(f" · {short_fingerprint(event.author)} · {when}", meta)
        if entry.clock is not None:
            text.append(f" · {MARK_TEXT[entry.clock]}", meta)
        if row.orphan:
            text.append(f" · {_ORPHAN.get(event.kind, 'about an earlier question')}", meta)
        text.truncate(width, overflow="ellipsis")
        return Strip(text.render(self.app.console), text.cell_len)
