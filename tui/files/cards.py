"""The cards of a circle's files in one container, kept in step with the files as loaded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.widget import Widget

from peernode.files import SharedFile
from peernode.node import Node
from tui.files.card import FileCard
from tui.files.desk import FileDesk


def sync_cards(
    box: Widget,
    node: Node,
    files: Sequence[SharedFile],
    desk: FileDesk,
    *,
    me: bytes | None,
    holders: Mapping[bytes, int],
) -> None:
    """One card per file in `box`, oldest first: cards kept (a download under way goes
    on showing its bar), new ones mounted, those of files gone removed."""
    cards = {card.shared.id: card for card in box.query_children(FileCard)}
    wanted = {shared.id for shared in files}
    for file, gone in cards.items():
        if file not in wanted:
            gone.remove()
    for shared in files:
        card = cards.get(shared.id)
        if card is not None:
            card.update_file(shared, holders.get(shared.id))
        else:
            mine = shared.event.author == me
            box.mount(FileCard(node, shared, desk, mine=mine, holders=holders.get(shared.id)))


def fetch_all(box: Widget) -> int:
    """Start fetching every file of `box` not on this laptop; returns how many."""
    missing = [card for card in box.query_children(FileCard) if not card.shared.complete]
    for card in missing:
        card.get()
    return len(missing)
