"""The store on its own thread, so SQLite never blocks the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import ParamSpec, TypeVar

from peernode.storage.store import Store

P = ParamSpec("P")
T = TypeVar("T")


class AsyncStore:
    """Runs every call of one Store on one worker thread, in submission order.

    check: see Store (a quick check of every page at open).
    """

    def __init__(self, path: Path, *, check: bool = False) -> None:
        self._path = path
        self._check = check
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="peernode-db")
        self._store: Store | None = None

    async def __aenter__(self) -> AsyncStore:
        self._store = await self._submit(functools.partial(Store, self._path, check=self._check))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._store is not None:
            await self._submit(self._store.close)
            self._store = None
        self._executor.shutdown(wait=True)

    async def call(self, method: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `method` (a bound Store method, see `.sync`) on the database thread."""
        return await self._submit(method, *args, **kwargs)

    @property
    def sync(self) -> Store:
        """The Store; only pass its bound methods to `call`, never call them here."""
        if self._store is None:
            raise RuntimeError("AsyncStore is not open")
        return self._store

    async def _submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))
