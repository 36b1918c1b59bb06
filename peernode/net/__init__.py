"""Networking: links, discovery, gossip and the control channel, reaching the node by its ports."""
