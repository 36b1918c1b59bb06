"""Settings of the node, built at the CLI edge (or by a test) and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

from peernode.admission import AdmissionConfig
from peernode.api.config import ApiConfig
from peernode.files.config import FilesConfig
from peernode.home import NodeRole
from peernode.net.config import NetworkConfig


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """How a node runs.

    watch_interval: how often to look for events that other processes (a CLI command
    beside a running node) wrote to the same database.
    write_probe_interval: while writes fail, how often a tiny one is tried (on the
    watch's ticks), so recovery is noticed unprompted.
    network: links, discovery and gossip, started by start_network(); None = offline.
    api: the local API (peernode.api), served while networking runs; None = no API.
    check_storage: check every page of the database at open, so a damaged file is
    reported at start-up (one-shot CLI commands skip it and find damage on use).
    role: what runs the node once networked ("serve", "room"), written in the home's
    lock for a second process to name it; only a "serve" node stops when the control
    API asks (it stops on SIGTERM). None: neither, say a test's or the demo's node.
    admission: what strangers' events this node stores a day (peernode.admission).
    """

    verify_workers: int | None = None
    watch_interval: float = 0.2
    watch: bool = True
    network: NetworkConfig | None = None
    check_storage: bool = True
    write_probe_interval: float = 5.0
    files: FilesConfig = field(default_factory=FilesConfig)
    """Chunk rules, the download scheduler, serving limits (peernode.files.config)."""
    role: NodeRole | None = None
    api: ApiConfig | None = field(default_factory=ApiConfig)
    admission: AdmissionConfig = field(default_factory=AdmissionConfig)
