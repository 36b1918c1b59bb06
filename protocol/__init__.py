"""The peernode wire protocol, sans-IO: bytes and clocks in, events and bytes out."""
