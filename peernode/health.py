"""Whether the database takes writes: why not, and noticing by itself when it does again."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

from peernode.clock import now_ms
from peernode.errors import StorageError
from peernode.storage.async_store import AsyncStore

log = logging.getLogger(__name__)

PROBE_MIN_FREE_BYTES: Final = 256 * 1024
"""A full disk is probed only once this much is free (a small write may fit a full one)."""


class WriteHealth:
    """The last write failure (disk full, read-only, damaged) until a write succeeds.

    on_recovered: runs when writes work again after failing (events received
    meanwhile were lost: the network fetches them again).
    probe_interval: while writes fail, how often probe_when_due() tries a tiny one.
    """

    def __init__(
        self,
        folder: Path,
        store: AsyncStore,
        *,
        probe_interval: float,
        on_recovered: Callable[[], None],
    ) -> None:
        self._folder = folder
        self._store = store
        self._probe_interval = probe_interval
        self._on_recovered = on_recovered
        self._next_probe = 0.0
        self.problem: str | None = None
        """Why the last write failed, until one succeeds."""
        self.probes = 0
        """How many probes fell due (tried, or skipped for want of free space)."""

    def failed(self, exc: StorageError, *, say: bool = True) -> None:
        """Note why a write failed; `say`: log it too (when nobody gets the error)."""
        if say and str(exc) != self.problem:
            log.warning("%s", exc)
        self.problem = str(exc)

    def ok(self) -> None:
        """A write went through: if writes failed before, say they work again."""
        if self.problem is None:
            return
        log.info("the database takes new events again")
        self.problem = None
        self._on_recovered()

    async def best_effort(self, write: Awaitable[None]) -> None:
        """Run a write nobody waits for (statistics, a peer's address): a failure is noted."""
        try:
            await write
        except StorageError as exc:
            self.failed(exc)
        else:
            self.ok()

    async def probe_when_due(self) -> None:
        """While writes fail, try a tiny one now and then, so recovery is noticed unprompted."""
        now = asyncio.get_running_loop().time()
        if self.problem is None or now < self._next_probe:
            return
        self._next_probe = now + self._probe_interval
        self.probes += 1
        if shutil.disk_usage(self._folder).free < PROBE_MIN_FREE_BYTES:
            return
        await self._store.set_setting("write_probe", str(now_ms()))
        self.ok()
