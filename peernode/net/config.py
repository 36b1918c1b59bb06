"""Settings of the networking layer, built at the CLI edge and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

from peernode.addresses import DEFAULT_PORT, parse_address
from peernode.net.serving import ServingConfig
from protocol.gossip.config import GossipConfig
from protocol.handshake import DEFAULT_MAX_FRAME_BYTES, DEFAULT_NETWORK_ID


@dataclass(frozen=True, slots=True)
class LinkConfig:
    """Transport settings. network_id: peers with another id cannot pair.

    handshake_timeout: a connection that has not proven its key by then is dropped.
    connect_timeout: how long a dial may take to reach the peer's socket.
    heartbeat: seconds between WebSocket pings; a peer silent for longer is gone.
    send_queue_frames: urgent frames (gossip, pushes) a link queues; a peer that lets
    more wait is too slow and its link is closed.
    bulk_queue_bytes: bytes of bulk frames (answers to requests) a link queues before
    the one serving them waits.
    bulk_after_bytes: urgent bytes written in a row after which one bulk frame goes.
    unsent_bytes: unsent bytes the kernel may hold for a link (TCP_NOTSENT_LOWAT; 0 is
    the kernel's default, megabytes).
    """

    network_id: bytes = DEFAULT_NETWORK_ID
    handshake_timeout: float = 10.0
    connect_timeout: float = 5.0
    heartbeat: float = 15.0
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    send_queue_frames: int = 512
    bulk_queue_bytes: int = 1 << 20
    bulk_after_bytes: int = 256 << 10
    unsent_bytes: int = 128 << 10
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
    sending_interval: how often the engine learns, for each link, whether bytes wait to
    go out and how many the kernel took (a link that does not read loses its slot).
    mdns_resolve_timeout: how long to wait for a found service's records.
    gossip: the engine's own (its intervals and timeouts: GossipConfig).
    serving: what answers to peers' requests may send, per peer and in total.
    """

    port: int | None = None
    host: str = "0.0.0.0"
    peers: tuple[tuple[str, int], ...] = ()
    mdns: bool = True
    link: LinkConfig = field(default_factory=LinkConfig)
    gossip: GossipConfig = field(default_factory=GossipConfig)
    serving: ServingConfig = field(default_factory=ServingConfig)
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    manual_interval: float = 0.5
    candidate_interval: float = 5.0
    counter_interval: float = 10.0
    sending_interval: float = 1.0
    mdns_resolve_timeout: float = 3.0


__all__ = ["DEFAULT_PORT", "LinkConfig", "NetworkConfig", "parse_address"]
