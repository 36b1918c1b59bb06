"""Gossip engine: HyParView membership, Plumtree broadcast, reconciliation catch-up (sans-IO)."""

from protocol.gossip.actions import Action, Close, Dial, PeerView, Send, SendStored, Verify
from protocol.gossip.config import GossipConfig
from protocol.gossip.engine import GossipEngine

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
