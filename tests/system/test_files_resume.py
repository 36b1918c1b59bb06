"""`peernode file get` killed (-9) half-way resumes without fetching what it had flushed."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from peernode.files import FilesConfig
from peernode.home import Home
from peernode.node import Node
from protocol.files import Bitfield
from tests.peernode.test_files import CIRCLE, config, write
from tests.support.nodes import cli_env, peernode
from tests.support.waiting import eventually

MIB = 1024 * 1024
SIZE = 32 * MIB  # 128 chunks of 256 KiB, flushed every 8 MiB (the defaults)
CHUNKS = 128


def durable_chunks(home: Path) -> int:
    """Chunks the catalog says are flushed to disk (what survives a kill)."""
    path = home / "files.db"
    if not path.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            query = "SELECT have, complete FROM blobs WHERE size = ?"
            rows = db.execute(query, (SIZE,)).fetchall()
    except sqlite3.OperationalError:  # created, its table not yet
        return 0
    if not rows:
        return 0
    have, complete = rows[0]
    return CHUNKS if complete else len(Bitfield.from_bytes(CHUNKS, have))


async def test_a_killed_get_resumes_from_what_was_flushed(tmp_path: Path) -> None:
    data = write(tmp_path / "lecture.mp4", SIZE)
    ben = tmp_path / "ben"
    peernode(ben, "init", "--name", "Ben")
    files = FilesConfig(serve_rate=8 * MIB)  # about 4 s for the whole file
    async with Node(Home(tmp_path / "ada"), replace(config(), files=files)) as ada:
        await ada.create_identity("Ada")
        await ada.start_network()
        assert ada._network is not None
        shared = await ada.files.share(tmp_path / "lecture.mp4", CIRCLE)
        server = ada.files._server
        assert server is not None
        get = [sys.executable, "-m", "peernode", "--home", str(ben), "file", "get"]
        get += [shared.id.hex(), "--peer", f"127.0.0.1:{ada._network.port}", "--no-mdns"]
        first = await asyncio.create_subprocess_exec(*get, env=cli_env(), stderr=subprocess.DEVNULL)
        try:
            await eventually(lambda: durable_chunks(ben) >= CHUNKS // 2, "half of it flushed", 60)
            first.send_signal(signal.SIGKILL)
        finally:
            await first.wait()
        kept = durable_chunks(ben)
        assert CHUNKS // 2 <= kept < CHUNKS
        await eventually(lambda: not server._links, "Ada to notice the killed link")
        before = server.chunks_sent
        again = await asyncio.to_thread(
            subprocess.run, [*get, "--to", str(tmp_path / "copy.mp4")], env=cli_env(), timeout=120
        )
        assert again.returncode == 0
        assert server.chunks_sent - before <= CHUNKS - kept
    assert (tmp_path / "copy.mp4").read_bytes() == data
