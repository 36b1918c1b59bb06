"""Opening the terminal UI, kept apart so the other commands never import Textual."""

from __future__ import annotations

from peernode.home import Home


def open_tui(home: Home, *, demo: bool = False) -> None:
    from tui.app import run

    run(home, demo=demo)
