"""Settings of file sharing, built at the CLI edge (or by a test) and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field

from protocol.files import ChunkRules, SchedulerConfig
from protocol.files.messages import LARGE_PIECE_BYTES


@dataclass(frozen=True, slots=True)
class FilesConfig:
    """rules: the chunk sizes made and accepted (tests use small ones).
    scheduler: windows, the byte cap, timeouts, strikes (protocol.files.SchedulerConfig).
    sync_every: bytes of a download written between two fdatasync calls.
    inline_bytes: a whole blob of at most this size is kept in the files database, not
    as a file under blobs/.
    piece_bytes: the most data in one Piece this node sends (less to a bulk 1.0 asker).
    max_serving: requests served at once, for every peer together.
    max_queued: requests one peer may have waiting (and watches it may hold open);
    past it, the answer is busy.
    have_interval: seconds between two Haves telling a peer watching a blob this node
    is fetching which chunks it gained (they are batched).
    ask_timeout: seconds to wait for a bulk link and for a peer's Have or Hashes.
    look_interval: seconds between two asks, during a download, of the linked peers
    that held none of the blob (they may be fetching it too, and hold some by now).
    idle_timeout: seconds a download waits with no peer to ask before it gives up.
    link_idle_timeout: seconds a bulk link we dialled stays open with nothing asked on
    it; the next request dials again.
    auto_fetch_bytes: files up to this size shared with a circle I am in are fetched
    as they are announced, without asking (0: never); larger ones on demand.
    quota_bytes, quota_share: the store holds at most the smaller of quota_bytes and
    quota_share of the disk's free space (plus what it holds); free_floor_bytes: a
    fetch never leaves less free on the disk (an amount, not a share).
    grace_seconds: how long a blob nothing keeps stays before it is deleted.
    collect_interval: seconds between two garbage collections of a running node.
    parallel_files: the files of a folder fetched at once.
    serve_rate: bytes per second this node sends on the bulk path, for every peer
    together (0: as fast as the disk and the network go). The bulk path's own budget:
    gossip has its own, per link.
    """

    rules: ChunkRules = field(default_factory=ChunkRules)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    sync_every: int = 8 * 1024 * 1024
    max_serving: int = 4
    max_queued: int = 64
    have_interval: float = 0.5
    piece_bytes: int = LARGE_PIECE_BYTES
    inline_bytes: int = 64 * 1024
    ask_timeout: float = 10.0
    idle_timeout: float = 30.0
    look_interval: float = 2.0
    link_idle_timeout: float = 60.0
    serve_rate: int = 0
    auto_fetch_bytes: int = 25_000_000
    quota_bytes: int = 10 * 1024**3
    quota_share: float = 0.25
    free_floor_bytes: int = 1024**3
    grace_seconds: float = 24 * 3600.0
    collect_interval: float = 3600.0
    parallel_files: int = 8
