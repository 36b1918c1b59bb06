"""Opening the terminal UI, kept apart so the other commands never import Textual."""

from __future__ import annotations

from typing import Final

from peernode.home import Home, HomeLock
from peernode.net.config import NetworkConfig
from peernode.node import NodeConfig

WATCH_INTERVAL: Final = 0.1
"""How often the TUI's node looks for notes written by other processes (the CLI)."""
DEMO_NETWORK: Final = NetworkConfig(port=0, host="127.0.0.1", mdns=False)
"""With the demo room open, the node is reachable only from this laptop."""


def open_tui(home: Home, *, demo: bool = False) -> None:
    HomeLock(home).check()  # a second TUI or serve on this home fails here, before the UI
    from tui.app import run

    network = DEMO_NETWORK if demo else NetworkConfig()
    run(home, NodeConfig(watch_interval=WATCH_INTERVAL, network=network), demo=demo)
