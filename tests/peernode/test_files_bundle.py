"""Sneakernet: a circle or a file in one bundle, verified on import (peernode/files/bundle.py)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from peernode.files import Presence
from peernode.home import Home
from peernode.node import Node, NodeConfig
from protocol.kinds import NOTE
from tests.conftest import RunCli
from tests.peernode.test_files import CIRCLE, FILES, write


def offline(path: Path) -> Node:
    return Node(Home(path), NodeConfig(watch=False, files=FILES))


async def test_a_circle_travels_on_a_usb_stick(tmp_path: Path) -> None:
    data = write(tmp_path / "week1.pdf", 100 * 1024)
    bundle = tmp_path / "stick" / "sql.peernode"
    bundle.parent.mkdir()
    async with offline(tmp_path / "ada") as ada:
        await ada.create_identity("Ada")
        await ada.circles.create(CIRCLE, name="SQL basics")
        await ada.post("bring a laptop", channel=CIRCLE)
        shared = await ada.files.share(tmp_path / "week1.pdf", CIRCLE, title="Week 1")
        assert await ada.files.export(bundle, circle=CIRCLE) == (4, 1)  # with Ada's profile
    async with offline(tmp_path / "ben") as ben:
        await ben.create_identity("Ben")
        assert await ben.files.import_bundle(bundle) == (4, 1, 0)
        notes = [e.event.body["text"] for e in await ben.feed(CIRCLE) if e.event.kind == NOTE]
        assert notes == ["bring a laptop"]
        got = await ben.files.find(shared.id)
        assert got.presence is Presence.HERE
        assert got.author_name == "Ada"
        assert (await ben.files.save(shared.id, tmp_path / "copy.pdf")).read_bytes() == data
        assert await ben.files.import_bundle(bundle) == (0, 1, 0)  # again: nothing new


async def test_a_tampered_bundle_keeps_nothing_false(tmp_path: Path) -> None:
    write(tmp_path / "notes.txt", 5000)
    bundle, tampered = tmp_path / "a.peernode", tmp_path / "b.peernode"
    async with offline(tmp_path / "ada") as ada:
        await ada.create_identity("Ada")
        shared = await ada.files.share(tmp_path / "notes.txt", CIRCLE)
        await ada.files.export(bundle, ref=shared.id)
    with tarfile.open(bundle) as source, tarfile.open(tampered, "w") as out:
        for member in source:
            reader = source.extractfile(member)
            assert reader is not None
            data = bytearray(reader.read())
            if member.name.startswith("blobs/"):
                data[100] ^= 1  # one bit of the file
            if member.name.startswith("events/") and data == shared.event.raw:
                data[-3] ^= 1  # one bit of the file's event
            member.size = len(data)
            out.addfile(member, io.BytesIO(bytes(data)))
        for name in ("../../escaped.txt", "/tmp/absolute.txt", "blobs/not-an-id"):
            info = tarfile.TarInfo(name)
            info.size = 4
            out.addfile(info, io.BytesIO(b"evil"))
    async with offline(tmp_path / "ben") as ben:
        await ben.create_identity("Ben")
        new, blobs, refused = await ben.files.import_bundle(tampered)
        assert (new, blobs, refused) == (1, 0, 2)  # Ada's profile only
        assert not ben.files._disk.has(shared.blob)
        assert await ben.files.list() == []
    assert not (tmp_path.parent / "escaped.txt").exists()


def test_export_and_import_from_the_command_line(tmp_path: Path, invoke_cli: RunCli) -> None:
    ada, ben = str(tmp_path / "ada"), str(tmp_path / "ben")
    (tmp_path / "a.txt").write_text("shared on a stick")
    for home, name in ((ada, "Ada"), (ben, "Ben")):
        assert invoke_cli("--home", home, "init", "--name", name).returncode == 0
    shared = invoke_cli("--home", ada, "file", "share", str(tmp_path / "a.txt"), "--circle", "c")
    file_id = shared.stdout.splitlines()[-1].split()[0]
    bundle = str(tmp_path / "a.peernode")
    exported = invoke_cli("--home", ada, "file", "export", file_id, bundle)
    assert exported.returncode == 0, exported.stderr
    assert "2 events, 1 file" in exported.stdout
    again = invoke_cli("--home", ada, "file", "export", file_id, bundle)
    assert "exists already; nothing was overwritten" in again.stderr
    imported = invoke_cli("--home", ben, "file", "import", bundle)
    assert imported.returncode == 0, imported.stderr
    assert "imported 2 new events and 1 file" in imported.stdout
    listed = invoke_cli("--home", ben, "file", "list", "c")
    assert "on this laptop" in listed.stdout
    neither = invoke_cli("--home", ada, "file", "export", bundle + "2")
    assert neither.returncode == 2
