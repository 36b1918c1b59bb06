"""Networking: links, listener, discovery, the gossip driver, control channel, doctor."""
