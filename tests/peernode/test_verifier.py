"""The verifier pool: a peer we know is verified ahead of strangers' queued work."""

from __future__ import annotations

import asyncio

from peernode.verifier import VerifierPool
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
