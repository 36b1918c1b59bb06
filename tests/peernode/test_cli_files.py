"""`peernode file`: share, list, save offline; get through a running node while notes flow."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import replace
from pathlib import Path

from peernode.files import FilesConfig
from peernode.home import Home
from peernode.node import Node
from protocol.files import ChunkRules
from tests.conftest import RunCli
from tests.peernode.test_files import CIRCLE, arrives, config, linked
from tests.support.waiting import eventually

RULES = ChunkRules(min_chunk=64 * 1024, max_chunk=1024 * 1024, max_chunks=64)
SIZE = 3 * 1024 * 1024  # 48 chunks of 64 KiB
RATE = 2_000_000  # bytes per second Ada serves: the transfer takes about a second and a half


def test_share_list_and_save_offline(tmp_path: Path, invoke_cli: RunCli) -> None:
    home = str(tmp_path / "home")
    source = tmp_path / "week1.txt"
    source.write_text("SELECT * FROM learners;\n")
    assert invoke_cli("--home", home, "init", "--name", "Ana").returncode == 0
    shared = invoke_cli(
        "--home", home, "file", "share", str(source), "--circle", CIRCLE, "--json", "--tag", "sql"
    )
    assert shared.returncode == 0, shared.stderr
    record = json.loads(shared.stdout)
    assert record["name"] == "week1.txt"
    assert record["presence"] == "here"
    listed = invoke_cli("--home", home, "file", "list", CIRCLE)
    assert "week1.txt" in listed.stdout
    assert "24 bytes, on this laptop" in listed.stdout
    assert "shared by Ana" in listed.stdout
    source.write_text("changed afterwards\n")  # the shared copy is the store's own
    saved = invoke_cli("--home", home, "file", "save", record["id"][:12], str(tmp_path))
    assert saved.returncode == 0, saved.stderr
    assert (tmp_path / "week1 (2).txt").read_text() == "SELECT * FROM learners;\n"
    refused = invoke_cli("--home", home, "file", "save", record["id"], str(source))
    assert refused.returncode == 1
    assert "exists already; nothing was overwritten" in refused.stderr
    assert source.read_text() == "changed afterwards\n"


def test_list_says_when_there_is_nothing(tmp_path: Path, invoke_cli: RunCli) -> None:
    result = invoke_cli("--home", str(tmp_path / "home"), "file", "list")
    assert result.returncode == 0
    assert "no files shared here yet" in result.stderr


async def test_get_through_the_running_node_while_a_note_arrives(
    tmp_path: Path, invoke_cli: RunCli
) -> None:
    data = random.Random(5).randbytes(SIZE)
    (tmp_path / "lecture.mp4").write_bytes(data)
    ada_config = config()
    ada_config = replace(ada_config, files=FilesConfig(rules=RULES, serve_rate=RATE))
    async with Node(Home(tmp_path / "ada"), ada_config) as ada:
        await ada.create_identity("Ada")
        await ada.start_network()
        assert ada._network is not None
        ben_config = replace(
            config([("127.0.0.1", ada._network.port or 0)]), files=FilesConfig(rules=RULES)
        )
        async with Node(Home(tmp_path / "ben"), ben_config) as ben:
            await ben.create_identity("Ben")
            await ben.start_network()
            shared = await ada.files.share(tmp_path / "lecture.mp4", CIRCLE)
            await arrives(ben, shared)
            await linked(ben, 1)
            destination = tmp_path / "saved.mp4"
            command = asyncio.create_task(
                asyncio.to_thread(
                    invoke_cli,
                    "--home",
                    str(tmp_path / "ben"),
                    "file",
                    "get",
                    shared.id.hex(),
                    "--to",
                    str(destination),
                )
            )
            await eventually(lambda: ben.files.progress, "the download to start")
            note = await ada.post("the slides are in the shared folder", channel=CIRCLE)

            async def note_at_ben() -> bool:
                return any(entry.event.id == note.id for entry in await ben.feed(CIRCLE))

            await eventually(note_at_ben, "the note at Ben's node", every=0.01)
            progress = ben.files.progress[shared.id]
            assert not command.done(), "the note came only after the download"
            assert progress.have_bytes < SIZE
            result = await command
    assert result.returncode == 0, result.stderr
    assert "3.1 MB of 3.1 MB · done" in result.stderr
    assert destination.read_bytes() == data


async def test_whoever_shared_a_file_sees_how_many_laptops_have_it(
    tmp_path: Path, invoke_cli: RunCli
) -> None:
    (tmp_path / "week1.pdf").write_bytes(b"slides" * 1000)
    async with Node(Home(tmp_path / "ada"), config()) as ada:
        await ada.create_identity("Ada")
        await ada.start_network()
        assert ada._network is not None
        ben_config = config([("127.0.0.1", ada._network.port or 0)])
        async with Node(Home(tmp_path / "ben"), ben_config) as ben:
            await ben.create_identity("Ben")
            await ben.start_network()
            shared = await ada.files.share(tmp_path / "week1.pdf", CIRCLE)
            await arrives(ben, shared)
            await linked(ada, 1)
            assert await ada.files.holders(shared.id) == 0
            await ben.files.get(shared.id)
            assert await ada.files.holders(shared.id) == 1
            listed = await asyncio.to_thread(
                invoke_cli, "--home", str(tmp_path / "ada"), "file", "list"
            )
    assert listed.returncode == 0, listed.stderr
    assert "shared by Ada  on 1 other laptop" in listed.stdout


def test_a_shared_file_reads_as_a_card_in_the_feed(tmp_path: Path, invoke_cli: RunCli) -> None:
    home = str(tmp_path / "home")
    (tmp_path / "slides.pdf").write_bytes(b"%PDF" * 1000)
    assert invoke_cli("--home", home, "init", "--name", "Ana").returncode == 0
    share = ["file", "share", str(tmp_path / "slides.pdf"), "--circle", CIRCLE]
    shared = invoke_cli("--home", home, *share, "--title", "Week 1", "--tag", "sql")
    assert shared.returncode == 0, shared.stderr
    feed = invoke_cli("--home", home, "feed", "--channel", CIRCLE)
    assert "Ana shared the file “Week 1”" in feed.stdout
    assert "slides.pdf · file · 4.0 KB" in feed.stdout
    assert "#sql" in feed.stdout
    assert "changed an earlier event" not in feed.stdout
