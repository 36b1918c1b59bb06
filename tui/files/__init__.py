"""Shared files in the study room: cards with a progress bar, Save and Open."""

from tui.files.card import FileCard
from tui.files.cards import fetch_all, sync_cards
from tui.files.desk import FileDesk, desk_of
from tui.files.dialog import FileDialog
from tui.files.save import SaveDialog

__all__ = ["FileCard", "FileDesk", "FileDialog", "SaveDialog", "desk_of", "fetch_all", "sync_cards"]
