"""Opening the terminal UI, kept apart so the other commands never import Textual."""

from __future__ import annotations

from typing import Final

from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.node import NodeConfig

WATCH_INTERVAL: Final = 0.1
"""How often the TUI's node looks for notes written by other processes (the CLI)."""
DEMO_NETWORK: Final = NetworkConfig(port=0, host="127.0.0.1", mdns=False)
"""With the demo room open, the node is reachable only from this laptop."""


def open_tui(home: Home, *, demo: bool = False) -> None:
    # A home whose node runs already opens on a screen that names it and offers the
    # choices (tui.screens.in_use): the room never starts a second node there.
    from tui.app import run

    network = DEMO_NETWORK if demo else NetworkConfig()
    run(home, NodeConfig(watch_interval=WATCH_INTERVAL, network=network), demo=demo)
