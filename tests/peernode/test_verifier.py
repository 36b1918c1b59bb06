"""The verifier pool: a peer we know is verified ahead of strangers' queued work."""

from __future__ import annotations

import asyncio

from peernode.verifier import BULK_BEFORE_PROCESSES, VerifierPool
from protocol.event import create_event
from protocol.identity import SigningKey


def notes(count: int) -> list[bytes]:
    key = SigningKey.generate()
    return [
        create_event(
            key, kind="peernode/note@1", circle="lobby", body={"text": f"n{i}"}, created_at=i
        ).raw
        for i in range(count)
    ]


async def test_a_known_peers_small_batch_does_not_wait_behind_strangers_work() -> None:
    """Before, every small batch went to one queue of threads: a note of a peer we know
    waited until strangers' batches queued before it were verified (a Sybil pull kept
    honest notes 2 s late)."""
    async with VerifierPool(workers=1, processes=False) as pool:
        strangers = asyncio.ensure_future(pool.verify(notes(3_000)))
        await asyncio.sleep(0)  # its chunks are queued first
        good, bad = await pool.verify(notes(1), urgent=True)
        assert (len(good), bad) == (1, [])
        assert not strangers.done()  # the known peer's note did not wait for them
        good, bad = await strangers
        assert (len(good), bad) == (3_000, [])


async def test_strangers_bulk_waits_for_the_worker_processes_while_they_start() -> None:
    """Ed25519 holds the GIL: before, bulk batches went to threads until the worker
    processes were up, and the event loop starved meanwhile (honest notes 1.8 s late,
    and the node's own API slow, 5 s into a Sybil pull)."""
    async with VerifierPool(workers=1) as pool:
        bulk = notes(BULK_BEFORE_PROCESSES)  # enough bulk work to start the processes
        good, bad = await pool.verify(bulk)
        assert (len(good), bad) == (len(bulk), [])
        assert pool.processes_up  # the batch was verified there, once they were up
