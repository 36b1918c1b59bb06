"""Checking and writing a download's chunks (writer.py), on real files in tmp_path."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from peernode.files.disk import BlobDir
from peernode.files.writer import ChunkWriter, SmallWriter
from protocol.files import ChunkRules, layout_of

RULES = ChunkRules(min_chunk=1024, max_chunk=1024, max_chunks=64)
DATA = random.Random(3).randbytes(10 * 1024 + 5)  # 11 chunks of 1 KiB
LAYOUT = layout_of(DATA, RULES)


def chunk(index: int) -> bytes:
    return DATA[LAYOUT.offset(index) : LAYOUT.offset(index) + LAYOUT.chunk_length(index)]


async def test_chunks_are_checked_written_and_flushed_in_batches(tmp_path: Path) -> None:
    checked: list[tuple[int, bool, bytes]] = []
    durable: list[list[int]] = []
    disk = BlobDir(tmp_path / "blobs")
    partial = disk.open_partial(LAYOUT)
    writer = ChunkWriter(
        LAYOUT,
        partial,
        sync_every=4 * 1024,
        on_checked=lambda index, good, peer: checked.append((index, good, peer)),
        on_durable=durable.append,
    )
    try:
        writer.submit(0, b"x" + chunk(0)[1:], b"liar")
        for index in range(LAYOUT.chunks):
            writer.submit(index, chunk(index), b"honest")
        await writer.flush_all()
        await writer.finish()
    finally:
        await writer.close()
    assert checked[0] == (0, False, b"liar")
    assert [(i, good) for i, good, _ in checked[1:]] == [(i, True) for i in range(LAYOUT.chunks)]
    assert sorted(i for batch in durable for i in batch) == list(range(LAYOUT.chunks))
    assert len(durable) < LAYOUT.chunks  # a flush every 4 KiB or so, never one per chunk
    assert disk.path(LAYOUT.id).read_bytes() == DATA


async def test_a_small_blob_is_kept_in_memory_until_whole() -> None:
    checked: list[tuple[int, bool]] = []
    writer = SmallWriter(LAYOUT, on_checked=lambda index, good, peer: checked.append((index, good)))
    writer.submit(3, chunk(4), b"liar")
    for index in reversed(range(LAYOUT.chunks)):
        writer.submit(index, chunk(index), b"honest")
    await asyncio.sleep(0)
    assert checked[0] == (3, False)
    assert len(checked) == LAYOUT.chunks + 1
    assert writer.data == DATA
