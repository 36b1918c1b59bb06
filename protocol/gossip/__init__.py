"""Gossip engine: HyParView membership, Plumtree broadcast, reconciliation catch-up (sans-IO)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from protocol.gossip.actions import Action, Close, Dial, PeerView, Send, SendStored, Verify
    from protocol.gossip.config import GossipConfig
    from protocol.gossip.engine import GossipEngine

_HOME = {
    "Action": "actions",
    "Close": "actions",
    "Dial": "actions",
    "PeerView": "actions",
    "Send": "actions",
    "SendStored": "actions",
    "Verify": "actions",
    "GossipConfig": "config",
    "GossipEngine": "engine",
}
"""Where each public name lives. They load on first use, so a program that needs only
the settings (every CLI command builds a NetworkConfig) does not load the engine."""

__all__ = [
    "Action",
    "Close",
    "Dial",
    "GossipConfig",
    "GossipEngine",
    "PeerView",
    "Send",
    "SendStored",
    "Verify",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value
