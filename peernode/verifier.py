"""Event verification on a pool of threads: Ed25519 in `cryptography` releases the GIL."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType

from protocol.errors import RemoteProtocolError
from protocol.event import Event, decode_event

CHUNK = 64  # events per task: big enough to amortise hand-off, small enough to spread


@dataclass(frozen=True, slots=True)
class Rejected:
    """A received event that failed a check; `reason` names the field."""

    raw: bytes
    reason: str


def verify_batch(raws: Sequence[bytes]) -> tuple[list[Event], list[Rejected]]:
    """Decode and verify each event; good ones keep their input order."""
    good: list[Event] = []
    bad: list[Rejected] = []
    for raw in raws:
        try:
            good.append(decode_event(raw))
        except RemoteProtocolError as exc:
            bad.append(Rejected(raw, str(exc)))
    return good, bad


class VerifierPool:
    """Verifies batches of received events off the event loop, across cores."""

    def __init__(self, *, workers: int | None = None) -> None:
        self.workers = workers or min(4, os.cpu_count() or 1)
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="peernode-verify")

    async def __aenter__(self) -> VerifierPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    async def verify(self, raws: Sequence[bytes]) -> tuple[list[Event], list[Rejected]]:
        loop = asyncio.get_running_loop()
        chunks = [raws[i : i + CHUNK] for i in range(0, len(raws), CHUNK)]
        results = await asyncio.gather(
            *(loop.run_in_executor(self._executor, verify_batch, chunk) for chunk in chunks)
        )
        good: list[Event] = []
        bad: list[Rejected] = []
        for chunk_good, chunk_bad in results:
            good.extend(chunk_good)
            bad.extend(chunk_bad)
        return good, bad

    def verify_sync(self, raws: Sequence[bytes]) -> tuple[list[Event], list[Rejected]]:
        """The same, for callers outside an event loop (the CLI, benchmarks)."""
        chunks = [raws[i : i + CHUNK] for i in range(0, len(raws), CHUNK)]
        good: list[Event] = []
        bad: list[Rejected] = []
        for chunk_good, chunk_bad in self._executor.map(verify_batch, chunks):
            good.extend(chunk_good)
            bad.extend(chunk_bad)
        return good, bad
