"""Settings of the networking layer, built at the CLI edge and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from peernode.errors import BadInput
from protocol.gossip import GossipConfig
from protocol.handshake import DEFAULT_MAX_FRAME_BYTES

DEFAULT_PORT: Final = 7420


@dataclass(frozen=True, slots=True)
class LinkConfig:
    """Transport settings. network_id: peers with another id cannot pair.

    handshake_timeout: a connection that has not proven its key by then is dropped.
    connect_timeout: how long a dial may take to reach the peer's socket.
    heartbeat: seconds between WebSocket pings; a peer silent for longer is gone.
    """

    network_id: bytes = b"peernode-lan"
    handshake_timeout: float = 10.0
    connect_timeout: float = 5.0
    heartbeat: float = 15.0
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    send_queue_frames: int = 512
    max_handshakes_per_host: int = 4


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """port: None = DEFAULT_PORT, or any free port when that one is taken; 0 = any.
    peers: addresses to link to and keep linked. mdns: announce and browse.

    Timing (seconds; system tests run them short):
    reconnect_min, reconnect_max: the backoff between tries of a peer in `peers`.
    manual_interval: how often the peers in `peers` are checked for a redial.
    candidate_interval: how often, while below the target number of links, known
    peers are offered again (and mDNS catches up with changed interfaces).
    counter_interval: how often the events exchanged per peer are saved.
    mdns_resolve_timeout: how long to wait for a found service's records.
    gossip: the engine's own (its intervals and timeouts: GossipConfig).
    """

    port: int | None = None
    host: str = "0.0.0.0"
    peers: tuple[tuple[str, int], ...] = ()
    mdns: bool = True
    link: LinkConfig = field(default_factory=LinkConfig)
    gossip: GossipConfig = field(default_factory=GossipConfig)
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    manual_interval: float = 0.5
    candidate_interval: float = 5.0
    counter_interval: float = 10.0
    mdns_resolve_timeout: float = 3.0


def parse_address(text: str) -> tuple[str, int]:
    """'HOST:PORT' or '[IPv6]:PORT' → (host, port), with a clear error."""
    host, sep, port_text = text.rpartition(":")
    example = f"like 192.168.1.20:{DEFAULT_PORT}"
    if not sep or not host:
        raise BadInput(f"expected HOST:PORT ({example}), got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise BadInput(f"put an IPv6 address in brackets, like [fe80::1]:{DEFAULT_PORT}")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise BadInput(f"the port must be a number from 1 to 65535 ({example})")
    return host, int(port_text)
