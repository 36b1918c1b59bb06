"""The peernode wire protocol, sans-IO: bytes and clocks in, events and bytes out."""

# Only the errors are imported here: they depend on nothing, while importing the
# submodules would load cryptography and msgpack for a caller that wants one of them.
from protocol.errors import (
    DecodeError,
    InvalidEvent,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
)

__all__ = [
    # the errors a caller catches
    "DecodeError",
    "InvalidEvent",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    # submodules, each imported on first use (`from protocol import wire`)
    "codec",
    "errors",
    "event",
    "gossip",
    "handshake",
    "identity",
    "kinds",
    "limits",
    "noise",
    "reconcile",
    "wire",
]
