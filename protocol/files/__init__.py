"""Files: content-addressed, chunked, verified blobs, folder manifests and the bulk path."""

from __future__ import annotations

from protocol.files.bitfield import Bitfield
from protocol.files.blob import (
    BLOB_ID_BYTES,
    BadChunk,
    BadLayout,
    ChunkRules,
    Hasher,
    Layout,
    blob_id,
    layout_from_wire,
    layout_of,
)
from protocol.files.manifest import Entry, Manifest, decode_manifest
from protocol.files.paths import BadPath, check_name, check_path
from protocol.files.requester import ChunkReply, Requester, pieces
from protocol.files.scheduler import Ban, Cancel, Request, Scheduler, SchedulerConfig

__all__ = [
    "BLOB_ID_BYTES",
    "BadChunk",
    "BadLayout",
    "BadPath",
    "Ban",
    "Bitfield",
    "Cancel",
    "ChunkReply",
    "ChunkRules",
    "Entry",
    "Hasher",
    "Layout",
    "Manifest",
    "Request",
    "Requester",
    "Scheduler",
    "SchedulerConfig",
    "blob_id",
    "check_name",
    "check_path",
    "decode_manifest",
    "layout_from_wire",
    "layout_of",
    "pieces",
]
