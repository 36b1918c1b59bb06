"""What the file store keeps: pins, garbage collection after a grace period, the quota."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from peernode.files import FilesConfig, Presence
from peernode.files.keeping import NoRoom
from peernode.home import Home
from peernode.node import Node, NodeConfig
from protocol import kinds
from protocol.event import create_event
from protocol.files import layout_of
from protocol.identity import SigningKey
from tests.conftest import RunCli
from tests.peernode.test_files import CIRCLE, FILES, arrives, linked, running, write

HOUR_MS = 3_600_000
KEEPING = replace(FILES, grace_seconds=3600.0)


def offline(path: Path, files: FilesConfig = KEEPING) -> Node:
    return Node(Home(path), NodeConfig(watch=False, files=files))


async def test_what_nothing_keeps_goes_after_the_grace_period(tmp_path: Path) -> None:
    write(tmp_path / "kept.txt", 1000, seed=1)
    write(tmp_path / "dropped.txt", 1000, seed=2)
    write(tmp_path / "pinned.txt", 1000, seed=3)
    async with offline(tmp_path / "ada") as ada:
        await ada.create_identity("Ada")
        kept = await ada.files.share(tmp_path / "kept.txt", CIRCLE)
        dropped = await ada.files.share(tmp_path / "dropped.txt", CIRCLE)
        pinned = await ada.files.share(tmp_path / "pinned.txt", CIRCLE)
        await ada.delete(dropped.id)  # the author's delete drops the reference
        await ada.delete(pinned.id)
        await ada.files.pin(pinned.id)
        now = 1_900_000_000_000
        assert await ada.files.collect(now) == 0  # released, not deleted yet
        assert await ada.files.collect(now + HOUR_MS - 1) == 0
        assert await ada.files.collect(now + HOUR_MS) == 1
        assert (await ada.files.find(dropped.id)).presence is Presence.MISSING
        assert not ada.files._disk.has(dropped.blob)
        assert (await ada.files.find(kept.id)).presence is Presence.HERE
        assert (await ada.files.find(pinned.id)).presence is Presence.HERE
        await ada.files.pin(pinned.id, pinned=False)
        assert await ada.files.collect(now + 2 * HOUR_MS) == 0  # its grace starts now
        assert await ada.files.collect(now + 3 * HOUR_MS) == 1


async def test_a_file_of_a_circle_i_join_is_kept_again(tmp_path: Path) -> None:
    bo = SigningKey.generate()
    data = b"Week 2: joins\n" * 100
    layout = layout_of(data, FILES.rules)
    body = {"name": "week2.txt", "size": len(data), "type": "file", "blob": layout.id}
    event = create_event(bo, kind=kinds.FILE, circle=CIRCLE, body=body, created_at=1)
    circle = create_event(bo, kind=kinds.CIRCLE, circle=CIRCLE, body={"name": "SQL"}, created_at=1)
    async with offline(tmp_path / "ada") as ada:
        await ada.create_identity("Ada")
        await ada.ingest([circle.raw, event.raw])
        ada.files._disk.import_bytes(data, FILES.rules)  # as if fetched
        (await ada.files._library.catalog()).add(layout, complete=True)
        now = 1_900_000_000_000
        await ada.files.collect(now)  # Bo's file, of a circle Ada is not in: released
        await ada.circles.join(CIRCLE)
        await ada.files.collect(now + HOUR_MS // 2)  # kept again: released no more
        assert await ada.files.collect(now + 2 * HOUR_MS) == 0
        assert (await ada.files.find(event.id)).presence is Presence.HERE


async def test_a_fetch_beyond_the_quota_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "big.bin", 200 * 1024)
    small_store = replace(FILES, quota_bytes=100 * 1024)
    async with (
        running(tmp_path / "ada", "Ada") as ada,
        running(tmp_path / "ben", "Ben", ada, files=small_store) as ben,
    ):
        shared = await ada.files.share(tmp_path / "big.bin", CIRCLE)
        await arrives(ben, shared)
        await linked(ben, 1)
        with pytest.raises(NoRoom, match="the file store is full"):
            await ben.files.get(shared.id)
        assert not list((tmp_path / "ben" / "blobs").rglob("*.part"))


async def test_a_fetch_never_leaves_the_disk_below_its_floor(tmp_path: Path) -> None:
    write(tmp_path / "notes.txt", 1000)
    floor = replace(FILES, free_floor_bytes=2**62)  # more than any disk has
    async with (
        running(tmp_path / "ada", "Ada") as ada,
        running(tmp_path / "ben", "Ben", ada, files=floor) as ben,
    ):
        shared = await ada.files.share(tmp_path / "notes.txt", CIRCLE)
        await arrives(ben, shared)
        await linked(ben, 1)
        with pytest.raises(NoRoom, match="free some space first"):
            await ben.files.get(shared.id)


def test_pin_and_unpin_from_the_command_line(tmp_path: Path, invoke_cli: RunCli) -> None:
    home = str(tmp_path / "home")
    (tmp_path / "a.txt").write_text("a")
    assert invoke_cli("--home", home, "init", "--name", "Ana").returncode == 0
    shared = invoke_cli("--home", home, "file", "share", str(tmp_path / "a.txt"), "--circle", "c")
    file_id = shared.stdout.splitlines()[-1].split()[0]
    pinned = invoke_cli("--home", home, "file", "pin", file_id)
    assert pinned.returncode == 0, pinned.stderr
    assert "a.txt stays on this laptop" in pinned.stdout
    unpinned = invoke_cli("--home", home, "file", "unpin", file_id)
    assert "a.txt is no longer pinned" in unpinned.stdout
