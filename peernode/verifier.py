"""Event verification off the event loop.

Ed25519 in `cryptography` holds the GIL while it verifies, so threads neither use a second
core nor leave the event loop alone: bulk work (a catch-up brings thousands of events) goes
to worker processes, started the first time such work shows up. Small batches (a few
pushed notes) are verified on a thread, which costs no hand-off to another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, TypeAlias

from protocol.errors import RemoteProtocolError
from protocol.event import Event, decode_event

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

log = logging.getLogger(__name__)

CHUNK = 64  # events per task: big enough to amortise hand-off, small enough to spread
BULK_BATCH = 128
"""A batch at least this big is bulk work: worth sending to a worker process."""
BULK_BEFORE_PROCESSES = 1024
"""Bulk events seen before the worker processes are started (short bursts never start them)."""
PARENT_CHECK_SECONDS = 0.5
WORKER_NICE = 10


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


def _ready() -> int:
    return os.getpid()


def _worker_init(parent: int) -> None:
    """In each worker process: exit as soon as the node's process is gone.

    A node killed outright (SIGKILL, a crash) cannot stop its workers, and they would
    otherwise wait on their queue forever.
    """
    import threading
    import time

    if hasattr(os, "nice"):
        # Below the node's own process: verification soaks up spare CPU, while the event
        # loop (links, gossip, the UI) gets a core as soon as it needs one.
        with contextlib.suppress(OSError):
            os.nice(WORKER_NICE)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="parent watch", daemon=True).start()


_Started: TypeAlias = "tuple[ProcessPoolExecutor, list[Future[int]]]"


def _start_processes(workers: int) -> _Started:
    """Create the worker processes (on a thread); batches use threads until they are up."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: a clean interpreter, never a fork of this threaded process.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_worker_init, initargs=(os.getpid(),)
    )
    try:
        # One task per worker starts them all now.
        return pool, [pool.submit(_ready) for _ in range(workers)]
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise


class VerifierPool:
    """Verifies batches of received events off the event loop, across cores.

    workers: threads, and worker processes for bulk work (default: cores, at most 4).
    processes: False keeps everything on threads (one core, and the GIL, for verification).
    Worker processes are started with "spawn", which imports the program's main module in
    each of them: a script that runs a node must keep its work under
    `if __name__ == "__main__":` (the `peernode` command and `python -m peernode` do).
    """

    def __init__(self, *, workers: int | None = None, processes: bool = True) -> None:
        self.workers = workers or min(4, os.cpu_count() or 1)
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="peernode-verify")
        # Small batches of peers we know: a thread of their own, so they never queue behind
        # strangers' work (a Sybil's events keep the other threads busy).
        self._urgent = ThreadPoolExecutor(1, thread_name_prefix="peernode-verify-known")
        self._use_processes = processes
        self._starting: Future[_Started] | None = None
        self._processes: ProcessPoolExecutor | None = None
        self._warming: list[Future[int]] = []
        self._bulk = 0

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
        self._use_processes = False
        self._urgent.shutdown(wait=True, cancel_futures=True)
        self._executor.shutdown(wait=True, cancel_futures=True)  # waits for a start under way
        self._adopt_started()
        if self._processes is not None:
            self._processes.shutdown(wait=True, cancel_futures=True)
            self._processes = None

    @property
    def processes_up(self) -> bool:
        """Whether the worker processes are running (they start at the first bulk work)."""
        return self._process_pool() is not None

    def _process_pool(self) -> ProcessPoolExecutor | None:
        """The worker processes once they are up (None before, or when they cannot run)."""
        self._adopt_started()
        if not self._use_processes or self._processes is None:
            return None
        if not all(f.done() for f in self._warming):
            return None
        if any(f.cancelled() or f.exception() is not None for f in self._warming):
            self._give_up_processes("a worker process did not start")
            return None
        return self._processes

    def _adopt_started(self) -> None:
        """Take the processes started on a thread, once that is done."""
        starting = self._starting
        if starting is None or not starting.done():
            return
        self._starting = None
        if starting.cancelled():
            return
        if (exc := starting.exception()) is not None:
            self._give_up_processes(str(exc))
            return
        self._processes, self._warming = starting.result()  # close() shuts them down

    async def _processes_started(self) -> None:
        """Wait until worker processes being started are up (or failed); at once when
        none are being started."""
        with contextlib.suppress(Exception):  # a failure is seen by _process_pool
            if self._starting is not None:
                await asyncio.wrap_future(self._starting)
            self._adopt_started()
            if self._warming:
                await asyncio.gather(*map(asyncio.wrap_future, self._warming))

    def _note_bulk(self, count: int) -> None:
        self._bulk += count
        if self._processes is not None or self._starting is not None:
            return
        if self._use_processes and self._bulk >= BULK_BEFORE_PROCESSES:
            # Starting processes takes tens of ms (fork, exec, pipes): not on the event loop.
            self._starting = self._executor.submit(_start_processes, self.workers)

    def _give_up_processes(self, reason: str) -> None:
        log.warning("verifying on threads only: %s", reason)
        self._use_processes = False
        if self._processes is not None:
            self._processes.shutdown(wait=False, cancel_futures=True)
            self._processes = None

    async def verify(
        self, raws: Sequence[bytes], *, urgent: bool = False
    ) -> tuple[list[Event], list[Rejected]]:
        """urgent: a small batch goes to its own thread, ahead of other work (a peer we
        know); a bulk batch goes to the worker processes either way. While they start,
        other bulk batches wait for them: Ed25519 holds the GIL, and threads verifying
        thousands of strangers' events would starve the event loop meanwhile."""
        if not raws:
            return [], []
        executor: Executor = self._urgent if urgent else self._executor
        if len(raws) >= BULK_BATCH:
            self._note_bulk(len(raws))
            if not urgent:
                await self._processes_started()
            executor = self._process_pool() or self._executor
        try:
            return await self._run(executor, raws)
        except Exception as exc:  # BrokenProcessPool: a worker died (killed, out of memory)
            if executor is self._executor or executor is self._urgent:
                raise
            self._give_up_processes(f"a worker process failed ({exc!r})")
            return await self._run(self._executor, raws)

    async def _run(
        self, executor: Executor, raws: Sequence[bytes]
    ) -> tuple[list[Event], list[Rejected]]:
        loop = asyncio.get_running_loop()
        chunks = [raws[i : i + CHUNK] for i in range(0, len(raws), CHUNK)]
        results = await asyncio.gather(
            *(loop.run_in_executor(executor, verify_batch, chunk) for chunk in chunks)
        )
        good: list[Event] = []
        bad: list[Rejected] = []
        for chunk_good, chunk_bad in results:
            good.extend(chunk_good)
            bad.extend(chunk_bad)
        return good, bad
