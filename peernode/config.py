"""Settings of the node, built at the CLI edge (or by a test) and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

from peernode.admission import AdmissionConfig
from peernode.net.config import NetworkConfig


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """How a node runs.

    watch_interval: how often to look for events that other processes (a CLI command
    beside a running node) wrote to the same database.
    write_probe_interval: while writes fail, how often a tiny one is tried (on the
    watch's ticks), so recovery is noticed unprompted.
    network: links, discovery and gossip, started by start_network(); None = offline.
    check_storage: check every page of the database at open, so a damaged file is
    reported at start-up (one-shot CLI commands skip it and find damage on use).
    admission: what strangers' events this node stores a day (peernode.admission).
    """

    verify_workers: int | None = None
    watch_interval: float = 0.2
    watch: bool = True
    network: NetworkConfig | None = None
    check_storage: bool = True
    write_probe_interval: float = 5.0
    admission: AdmissionConfig = field(default_factory=AdmissionConfig)
