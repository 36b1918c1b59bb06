"""The status bar: who I am, my port, links, events, and sync with peers."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Static

from peernode.text import plural, short_fingerprint
from peernode.views import NodeStatus
from tui.text import clip


def sync_text(status: NodeStatus | None) -> str:
    """The sync indicator: ✓ when every peer linked now is in sync, ⟳ while some are
    still exchanging, ○ with none linked (NodeStatus.sync_summary says the words)."""
    if status is None:
        return "… checking peers"
    if status.linked == 0:
        symbol = "○"
    elif status.in_sync == status.linked:
        symbol = "✓"
    else:
        symbol = "⟳"
    return f"{symbol} {status.sync_summary}"


class SyncIndicator(Static):
    """Takes a NodeStatus (so tests can feed it any) and shows 'in sync with N of M'."""

    status: reactive[NodeStatus | None] = reactive(None)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(sync_text(None), id=id, markup=False)

    @property
    def text(self) -> str:
        return sync_text(self.status)

    def watch_status(self, status: NodeStatus | None) -> None:
        self.update(sync_text(status))
        self.set_class(
            bool(status and status.linked and status.in_sync == status.linked), "-synced"
        )


def identity_text(status: NodeStatus | None) -> str:
    if status is None:
        return "starting…"
    port = f"port {status.port}" if status.port is not None else "no port"
    name = clip(status.name or "no name yet", 16)
    return (
        f"{name} {short_fingerprint(status.key)} │ {port} │ "
        f"{status.linked} linked │ {count_text(status.events, 'event')}"
    )


def count_text(count: int, word: str) -> str:
    """Exact below 10,000, then rounded: '12k events', '1.2M events'."""
    if count < 10_000:
        return plural(count, word)
    if count < 1_000_000:
        return f"{count // 1000}k {word}s"
    return f"{count / 1_000_000:.1f}M {word}s"


class StatusBar(Horizontal):
    """One line above the footer; `status` is set by the screen about once a second."""

    status: reactive[NodeStatus | None] = reactive(None, init=False)

    def compose(self) -> ComposeResult:
        yield Static(identity_text(None), id="status-me", markup=False)
        yield SyncIndicator(id="sync")

    def watch_status(self, status: NodeStatus | None) -> None:
        self.query_one("#status-me", Static).update(identity_text(status))
        self.query_one(SyncIndicator).status = status
