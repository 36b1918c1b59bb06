"""What the store keeps and how much it may hold: pins, garbage collection, the quota.

Rules of this file:
- A blob is kept while it is pinned, being fetched, or referenced by a live file
  event in a circle I am in or of my own; otherwise, after a grace period, it goes.
- The store holds at most the smaller of a quota and a share of the free disk, and a
  fetch never leaves less than an absolute amount free.
- Everything here blocks: callers run it with asyncio.to_thread.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Set
from pathlib import Path

from peernode.errors import NodeError
from peernode.files.catalog import Catalog
from peernode.files.config import FilesConfig
from peernode.files.disk import BlobDir

log = logging.getLogger(__name__)


class NoRoom(NodeError):
    """The store or the disk has no room for a fetch."""


def collect(
    catalog: Catalog, disk: BlobDir, config: FilesConfig, keep: Set[bytes], now_ms: int
) -> list[bytes]:
    """Release what nothing keeps; delete what was released a grace period ago."""
    grace_ms = int(config.grace_seconds * 1000)
    deleted = []
    for holding in catalog.holdings():
        if holding.pinned or holding.blob in keep:
            if holding.released_at is not None:
                catalog.set_released(holding.blob, None)
        elif holding.released_at is None:
            catalog.set_released(holding.blob, now_ms)
        elif now_ms - holding.released_at >= grace_ms:
            disk.delete(holding.blob)
            catalog.forget(holding.blob)
            deleted.append(holding.blob)
    if deleted:
        log.info("deleted %d files nothing keeps any more", len(deleted))
    return deleted


def check_room(catalog: Catalog, root: Path, config: FilesConfig, size: int) -> None:
    """Raise NoRoom unless `size` more bytes fit in the store and on the disk."""
    root.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(root).free
    used = catalog.used_bytes()
    limit = min(config.quota_bytes, used + int(free * config.quota_share))
    if used + size > limit:
        raise NoRoom(
            f"the file store is full ({used:,} of {limit:,} bytes); unpin or delete"
            " files, or free space on the disk"
        )
    if free - size < config.free_floor_bytes:
        raise NoRoom(
            f"the disk would have less than {config.free_floor_bytes:,} bytes free;"
            " free some space first"
        )
