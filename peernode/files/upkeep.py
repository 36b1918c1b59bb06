"""What a running node does by itself: fetch the small files of my circles as they are
announced, and collect what nothing keeps, every so often."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Protocol

from peernode.errors import NodeError
from peernode.files.config import FilesConfig
from peernode.files.model import SharedFile
from protocol import kinds

if TYPE_CHECKING:
    from peernode.ports import FileNode


class Files(Protocol):
    """What upkeep needs of the file service (peernode.files.service.FileService)."""

    async def list(self, circle: str | None = None) -> list[SharedFile]: ...

    async def find(self, ref: str | bytes) -> SharedFile: ...

    async def get(self, ref: str | bytes) -> SharedFile: ...

    async def collect(self) -> int: ...


log = logging.getLogger(__name__)


class Upkeep:
    """The background tasks of the file service while networking runs."""

    def __init__(self, files: Files, node: FileNode, config: FilesConfig) -> None:
        self._files = files
        self._node = node
        self._config = config
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._collect_loop(), name="collect files")]
        if config.auto_fetch_bytes:
            self._tasks.append(loop.create_task(self._auto_fetch(), name="fetch small files"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _auto_fetch(self) -> None:
        """Fetch the small files of my circles: those already announced, then each one
        announced from now on (one at a time; a failure waits for the next announcement)."""
        subscription = self._node.subscribe()
        try:
            member: dict[str, bool] = {}  # of the circles seen at start
            for shared in filter(self._small_and_missing, await self._files.list()):
                if shared.circle not in member:
                    member[shared.circle] = await self._node.in_circle(shared.circle)
                if member[shared.circle]:
                    await self._fetch_quietly(shared)
            async for event in subscription:
                if event.kind != kinds.FILE:
                    continue
                shared = await self._files.find(event.id)
                if self._small_and_missing(shared) and await self._node.in_circle(event.circle):
                    await self._fetch_quietly(shared)
        finally:
            self._node.unsubscribe(subscription)

    def _small_and_missing(self, shared: SharedFile) -> bool:
        return not shared.complete and shared.size <= self._config.auto_fetch_bytes

    async def _fetch_quietly(self, shared: SharedFile) -> None:
        """Fetch; a failure is logged (the file stays listed, fetched on demand)."""
        try:
            await self._files.get(shared.id)
        except NodeError as exc:
            log.info("%s was not fetched by itself: %s", shared.name, exc)

    async def _collect_loop(self) -> None:
        while True:
            try:
                await self._files.collect()
            except NodeError as exc:
                log.warning("files were not collected: %s", exc)
            await asyncio.sleep(self._config.collect_interval)
