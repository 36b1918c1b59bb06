"""Files between real nodes on loopback: share, fetch from every holder, verify, save."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from peernode.errors import BadInput, NodeError
from peernode.files import FilesConfig, Presence, Progress, SharedFile
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig
from protocol.files import ChunkRules, SchedulerConfig
from tests.support.waiting import eventually

HOST = "127.0.0.1"
CIRCLE = "sql-basics"
RULES = ChunkRules(min_chunk=4 * 1024, max_chunk=64 * 1024, max_chunks=16)
FILES = FilesConfig(
    rules=RULES,
    scheduler=SchedulerConfig(request_timeout=2.0),
    sync_every=32 * 1024,
    ask_timeout=3.0,
    idle_timeout=3.0,
)


def config(peers: Sequence[tuple[str, int]] = (), files: FilesConfig = FILES) -> NodeConfig:
    network = NetworkConfig(port=0, host=HOST, mdns=False, peers=tuple(peers))
    return NodeConfig(network=network, verify_workers=1, watch=False, files=files)


@contextlib.asynccontextmanager
async def running(
    path: Path, name: str, *peers: Node, files: FilesConfig = FILES
) -> AsyncIterator[Node]:
    addresses = [(HOST, address(peer)) for peer in peers]
    async with Node(Home(path), config(addresses, files)) as node:
        await node.create_identity(name)
        await node.start_network()
        yield node


def address(node: Node) -> int:
    assert node._network is not None
    assert node._network.port is not None
    return node._network.port


def write(path: Path, size: int, seed: int = 1) -> bytes:
    data = random.Random(seed).randbytes(size)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


async def arrives(node: Node, shared: SharedFile) -> SharedFile:
    async def known() -> SharedFile | None:
        found = [f for f in await node.files.list(CIRCLE) if f.id == shared.id]
        return found[0] if found else None

    result = await eventually(known, "the file event")
    assert result is not None
    return result


async def linked(node: Node, count: int) -> None:
    await eventually(lambda: len(node._network.linked_addresses()) >= count, "links")  # type: ignore[union-attr]


async def test_a_shared_file_is_fetched_verified_and_saved(tmp_path: Path) -> None:
    data = write(tmp_path / "src" / "week1.pdf", 150 * 1024 + 7)  # 15 chunks of 16 KiB
    async with (
        running(tmp_path / "ada", "Ada") as ada,
        running(tmp_path / "ben", "Ben", ada) as ben,
    ):
        shared = await ada.files.share(tmp_path / "src" / "week1.pdf", CIRCLE, title="Week 1")
        assert shared.presence is Presence.HERE
        assert shared.event.body["mime"] == "application/pdf"
        seen = await arrives(ben, shared)
        assert seen.presence is Presence.MISSING
        assert seen.author_name == "Ada"
        await linked(ben, 1)
        reports: list[Progress] = []
        got = await ben.files.get(shared.id, reports.append)
        assert got.presence is Presence.HERE
        assert reports[-1].done
        assert [r.have_bytes for r in reports] == sorted(r.have_bytes for r in reports)
        out = await ben.files.save(shared.id, tmp_path)
        assert out == tmp_path / "week1.pdf"
        assert out.read_bytes() == data
        again = await ben.files.save(shared.id, tmp_path)  # never over the first copy
        assert again == tmp_path / "week1 (2).pdf"
        with pytest.raises(BadInput, match="exists already"):
            await ben.files.save(shared.id, out)
        assert list((tmp_path / "ben" / "blobs" / "partial").iterdir()) == []  # renamed


async def test_a_fetch_uses_every_holder_and_survives_a_lying_one(tmp_path: Path) -> None:
    data = write(tmp_path / "lecture.bin", 15 * 64 * 1024)  # 15 chunks of 64 KiB
    async with (
        running(tmp_path / "ada", "Ada") as ada,
        running(tmp_path / "ben", "Ben", ada) as ben,
        running(tmp_path / "cleo", "Cleo", ada, ben) as cleo,
        running(tmp_path / "dee", "Dee", ada, ben, cleo) as dee,
    ):
        shared = await ada.files.share(tmp_path / "lecture.bin", CIRCLE)
        for node in (ben, cleo):
            await arrives(node, shared)
            await linked(node, 1)
            await node.files.get(shared.id)
        # Ben's copy goes bad on disk: every chunk he sends now fails its hash.
        blob_path = tmp_path / "ben" / "blobs" / shared.blob.hex()[2:4] / shared.blob.hex()
        blob_path.write_bytes(bytes(len(data)))
        await arrives(dee, shared)
        await linked(dee, 3)
        got = await dee.files.get(shared.id)
        assert got.presence is Presence.HERE
        out = await dee.files.save(shared.id, tmp_path / "copy.bin")
        assert out.read_bytes() == data
        assert dee.files._pool is not None
        assert ben.public_key in dee.files._pool.banned
        sent = [node.files._server.chunks_sent for node in (ada, cleo)]  # type: ignore[union-attr]
        assert all(count > 0 for count in sent), sent


async def test_a_folder_travels_whole_and_is_saved_as_a_new_folder(tmp_path: Path) -> None:
    root = tmp_path / "exercises"
    files = {
        "README.txt": write(root / "README.txt", 100, seed=2),
        "week1/data.csv": write(root / "week1" / "data.csv", 40 * 1024, seed=3),
        "week1/empty.sql": write(root / "week1" / "empty.sql", 0),
        "week2/solution.sql": write(root / "week2" / "solution.sql", 5000, seed=4),
    }
    os.symlink("/etc/passwd", root / "week1" / "link")  # never shared
    async with (
        running(tmp_path / "ada", "Ada") as ada,
        running(tmp_path / "ben", "Ben", ada) as ben,
    ):
        shared = await ada.files.share(root, CIRCLE, title="Exercises")
        assert shared.is_folder
        assert shared.size == sum(len(data) for data in files.values())
        await arrives(ben, shared)
        await linked(ben, 1)
        got = await ben.files.get(shared.id)
        assert got.presence is Presence.HERE
        saved = await ben.files.save(shared.id, tmp_path / "mine")
        copied = {
            path.relative_to(saved).as_posix(): path.read_bytes()
            for path in saved.rglob("*")
            if path.is_file()
        }
        assert copied == files


@pytest.mark.parametrize("hostile", ["CON", "notes.", "a:b.txt"])
async def test_a_folder_with_an_unportable_name_is_refused_at_share(
    tmp_path: Path, hostile: str
) -> None:
    root = tmp_path / "bad"
    write(root / "ok.txt", 10)
    write(root / hostile, 10)
    async with Node(Home(tmp_path / "ada"), NodeConfig(watch=False, files=FILES)) as ada:
        await ada.create_identity("Ada")
        with pytest.raises(BadInput, match="cannot be shared"):
            await ada.files.share(root, CIRCLE)
        assert await ada.files.list(CIRCLE) == []


async def test_a_bad_circle_name_is_refused_before_anything_is_copied(tmp_path: Path) -> None:
    write(tmp_path / "week1.pdf", 200_000)  # above the inline size: it would go to blobs/
    async with Node(Home(tmp_path / "ada"), NodeConfig(watch=False, files=FILES)) as ada:
        await ada.create_identity("Ada")
        with pytest.raises(BadInput, match="lowercase letters"):
            await ada.files.share(tmp_path / "week1.pdf", "Intro to SQL")
    blobs = tmp_path / "ada" / "blobs"
    assert not blobs.exists() or not [p for p in blobs.rglob("*") if p.is_file()]


async def test_saving_never_goes_through_a_symlink(tmp_path: Path) -> None:
    write(tmp_path / "notes.txt", 10)
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "linked")
    async with Node(Home(tmp_path / "ada"), NodeConfig(watch=False, files=FILES)) as ada:
        await ada.create_identity("Ada")
        shared = await ada.files.share(tmp_path / "notes.txt", CIRCLE)
        with pytest.raises(BadInput, match="cannot save"):
            await ada.files.save(shared.id, tmp_path / "linked" / "x.txt")
        assert list((tmp_path / "real").iterdir()) == []


async def test_a_stopped_download_resumes_without_fetching_durable_chunks_again(
    tmp_path: Path,
) -> None:
    data = write(tmp_path / "lecture.bin", 15 * 64 * 1024)  # 15 chunks of 64 KiB
    async with (
        running(tmp_path / "ada", "Ada") as ada,
        running(tmp_path / "ben", "Ben", ada) as ben,
    ):
        shared = await ada.files.share(tmp_path / "lecture.bin", CIRCLE)
        await arrives(ben, shared)
        await linked(ben, 1)
        half = len(data) // 2

        def stop_at_half(progress: Progress) -> None:
            if progress.have_bytes >= half:
                raise _Stop

        with pytest.raises(_Stop):
            await ben.files.get(shared.id, stop_at_half)
        partly = await ben.files.find(shared.id)
        assert partly.presence is Presence.PARTIAL
        assert 0 < partly.have_bytes < len(data)
        assert ada.files._server is not None
        before = ada.files._server.chunks_sent
        await ben.files.get(shared.id)
        again = ada.files._server.chunks_sent - before
        assert again <= 15 - partly.have_bytes // (64 * 1024)
        out = await ben.files.save(shared.id, tmp_path / "copy.bin")
        assert out.read_bytes() == data


class _Stop(Exception):
    """Stops a download from its progress callback, as a killed process would."""


async def test_a_folder_with_a_hostile_path_is_refused_at_receive(tmp_path: Path) -> None:
    from protocol import kinds
    from protocol.codec import pack
    from protocol.files import layout_of

    inner = layout_of(b"#!/bin/sh\n", RULES)
    hostile = pack([1, [["../../.profile", 10, inner.id]]])  # what Manifest.of never makes
    async with (
        running(tmp_path / "ada", "Ada") as ada,
        running(tmp_path / "ben", "Ben", ada) as ben,
    ):
        layout = ada.files._disk.import_bytes(hostile, RULES)
        catalog = await ada.files._library.catalog()
        catalog.add(layout, complete=True, mine=True)
        body = {"name": "exercises", "size": 10, "type": "folder", "blob": layout.id}
        event = await ada.publish(kinds.FILE, circle=CIRCLE, body=body)
        shared = await ada.files.find(event.id)
        await arrives(ben, shared)
        await linked(ben, 1)
        with pytest.raises(NodeError, match="this folder was refused"):
            await ben.files.get(event.id)
        assert not (tmp_path / ".profile").exists()


async def test_a_source_that_stops_mid_way_leaves_the_rest_to_the_others(tmp_path: Path) -> None:
    data = write(tmp_path / "lecture.bin", 15 * 64 * 1024)
    slow = replace(FILES, serve_rate=400_000)  # about 2.5 s for the whole file from one source
    async with (
        running(tmp_path / "ada", "Ada", files=slow) as ada,
        running(tmp_path / "ben", "Ben", ada, files=slow) as ben,
    ):
        shared = await ada.files.share(tmp_path / "lecture.bin", CIRCLE)
        again = await ben.files.share(tmp_path / "lecture.bin", CIRCLE)
        assert again.blob == shared.blob  # the same bytes: the same blob, held by both
        async with running(tmp_path / "cleo", "Cleo", ada, ben) as cleo:
            await arrives(cleo, shared)
            await linked(cleo, 2)
            fetch = asyncio.create_task(cleo.files.get(shared.id))
            ben_server = ben.files._server
            assert ben_server is not None
            await eventually(lambda: ben_server.chunks_sent, "Ben serving Cleo")
            await ben.stop_network()  # Ben leaves the room mid-way
            assert not fetch.done()
            got = await fetch
            copy = await cleo.files.save(shared.id, tmp_path / "copy.bin")
        assert got.presence is Presence.HERE
        assert copy.read_bytes() == data
        assert ada.files._server is not None
        assert ada.files._server.chunks_sent > 0


async def test_a_file_whose_event_lies_about_its_size_is_not_fetched(tmp_path: Path) -> None:
    from protocol import kinds

    write(tmp_path / "big.bin", 200 * 1024)
    async with (
        running(tmp_path / "ada", "Ada") as ada,
        running(tmp_path / "ben", "Ben", ada) as ben,
    ):
        honest = await ada.files.share(tmp_path / "big.bin", CIRCLE)
        body = {**honest.event.body, "name": "small.txt", "size": 5}
        lying = await ada.publish(kinds.FILE, circle=CIRCLE, body=body)
        await arrives(ben, await ada.files.find(lying.id))
        await linked(ben, 1)
        with pytest.raises(NodeError, match="not the 5 its sharer announced"):
            await ben.files.get(lying.id)
        assert not list((tmp_path / "ben" / "blobs").rglob("*.part"))


async def test_a_partial_holder_serves_what_it_has_and_more_as_it_arrives(tmp_path: Path) -> None:
    data = write(tmp_path / "lecture.bin", 15 * 16 * 1024)  # 15 chunks of 16 KiB
    slow = replace(FILES, serve_rate=150_000)  # Ada: about 1.6 s for the whole file
    telling = replace(FILES, have_interval=0.05)
    async with (
        running(tmp_path / "ada", "Ada", files=slow) as ada,
        running(tmp_path / "ben", "Ben", ada, files=telling) as ben,
    ):
        shared = await ada.files.share(tmp_path / "lecture.bin", CIRCLE)
        await arrives(ben, shared)
        await linked(ben, 1)
        ben_fetch = asyncio.create_task(ben.files.get(shared.id))

        async def ben_holds_some() -> bool:
            return (await ben.files.find(shared.id)).presence is Presence.PARTIAL

        await eventually(ben_holds_some, "Ben's first durable chunks")
        async with running(tmp_path / "cleo", "Cleo", ben) as cleo:
            await arrives(cleo, shared)
            await linked(cleo, 1)
            cleo_fetch = asyncio.create_task(cleo.files.get(shared.id))
            ben_server = ben.files._server
            assert ben_server is not None
            await eventually(lambda: ben_server.chunks_sent, "Ben serving Cleo")
            assert not ben_fetch.done(), "Ben served only once he had it all"
            got = await cleo_fetch
            copy = await cleo.files.save(shared.id, tmp_path / "copy.bin")
        await ben_fetch
        # Cleo watched Ben (bulk 1.1): he told her the chunks he gained as he gained them.
        assert ben_server.haves_told > 0
    assert got.presence is Presence.HERE
    assert copy.read_bytes() == data


async def test_peers_that_start_together_learn_what_the_other_gains(tmp_path: Path) -> None:
    data = write(tmp_path / "lecture.bin", 15 * 16 * 1024)  # 15 chunks of 16 KiB
    slow = replace(FILES, serve_rate=150_000)  # Ada: about 1.6 s for one copy
    looking = replace(FILES, look_interval=0.1, have_interval=0.05)
    async with (
        running(tmp_path / "ada", "Ada", files=slow) as ada,
        running(tmp_path / "ben", "Ben", ada, files=looking) as ben,
        running(tmp_path / "cleo", "Cleo", ada, ben, files=looking) as cleo,
    ):
        shared = await ada.files.share(tmp_path / "lecture.bin", CIRCLE)
        await arrives(ben, shared)
        await arrives(cleo, shared)
        await linked(ben, 2)
        await linked(cleo, 2)
        # Both ask at once: each finds the other holding nothing, and asks again later.
        got = await asyncio.gather(ben.files.get(shared.id), cleo.files.get(shared.id))
        servers = [ben.files._server, cleo.files._server]
        copy = await cleo.files.save(shared.id, tmp_path / "copy.bin")
    assert all(g.presence is Presence.HERE for g in got)
    assert copy.read_bytes() == data
    assert sum(server.chunks_sent for server in servers if server is not None) > 0


async def test_small_files_of_my_circles_come_by_themselves(tmp_path: Path) -> None:
    write(tmp_path / "big.bin", 100 * 1024)
    small = write(tmp_path / "small.txt", 10 * 1024)
    write(tmp_path / "elsewhere.txt", 1024)
    auto = replace(FILES, auto_fetch_bytes=50_000)
    async with (
        running(tmp_path / "ada", "Ada", files=auto) as ada,
        running(tmp_path / "ben", "Ben", ada, files=auto) as ben,
    ):
        await ada.circles.create(CIRCLE, name="SQL basics")
        await arrives_circle(ben)
        await ben.circles.join(CIRCLE)
        other = await ada.files.share(tmp_path / "elsewhere.txt", "another-circle")
        big = await ada.files.share(tmp_path / "big.bin", CIRCLE)
        await arrives(ben, big)
        await eventually(lambda: ben.files.list("another-circle"), "the other circle's file")
        little = await ada.files.share(tmp_path / "small.txt", CIRCLE)
        await arrives(ben, little)

        async def small_here() -> bool:
            return (await ben.files.find(little.id)).presence is Presence.HERE

        await eventually(small_here, "the small file at Ben's, unasked")
        # They arrived before the small one, so they were passed over already:
        assert (await ben.files.find(big.id)).presence is Presence.MISSING
        assert (await ben.files.find(other.id)).presence is Presence.MISSING
        assert big.id not in ben.files.progress
        copy = await ben.files.save(little.id, tmp_path / "copy.txt")
        assert copy.read_bytes() == small


async def arrives_circle(node: Node) -> None:
    async def known() -> bool:
        return (await node.circles.state(CIRCLE)).exists

    await eventually(known, "the circle")


async def test_a_linked_laptop_that_never_answers_does_not_hold_the_start_up(
    tmp_path: Path,
) -> None:
    write(tmp_path / "notes.bin", 20 * 1024)
    async with (
        running(tmp_path / "ada", "Ada") as ada,
        running(tmp_path / "cleo", "Cleo", ada) as cleo,
        running(tmp_path / "dee", "Dee", ada, cleo) as dee,
    ):
        assert cleo.files._server is not None

        async def never(*_: object) -> None:  # Cleo's laptop hangs: it reads, never answers
            await asyncio.Event().wait()

        cleo.files._server._answer_one = never  # type: ignore[method-assign]
        shared = await ada.files.share(tmp_path / "notes.bin", CIRCLE)
        await arrives(dee, shared)
        await linked(dee, 2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        got = await dee.files.get(shared.id)
        assert got.presence is Presence.HERE
        assert loop.time() - started < FILES.ask_timeout  # not waiting out Cleo's silence


async def test_a_node_of_spec_1_0_is_never_dialled_on_the_bulk_path(tmp_path: Path) -> None:
    write(tmp_path / "notes.txt", 1000)
    quick = replace(FILES, idle_timeout=0.3)
    async with running(tmp_path / "ada", "Ada") as ada:
        assert ada._network is not None
        old = ada._network.link_info()
        # Ada's gossip links announce what a node of spec 1.0 announces.
        ada._network._factory._info = lambda: {**old, "spec": "1.0"}  # type: ignore[union-attr]
        async with running(tmp_path / "ben", "Ben", ada, files=quick) as ben:
            shared = await ada.files.share(tmp_path / "notes.txt", CIRCLE)
            await arrives(ben, shared)
            await linked(ben, 1)
            with pytest.raises(NodeError, match="no laptop linked"):
                await ben.files.get(shared.id)
            assert ben.files._pool is not None
            assert ben.files._pool.dialled == 0
            assert ada.files._server is not None
            assert ada.files._server.chunks_sent == 0


async def test_an_idle_bulk_link_is_closed_and_dialled_again_when_needed(tmp_path: Path) -> None:
    write(tmp_path / "week1.txt", 3000, seed=1)
    write(tmp_path / "week2.txt", 3000, seed=2)
    brief = replace(FILES, link_idle_timeout=0.2)
    async with (
        running(tmp_path / "ada", "Ada") as ada,
        running(tmp_path / "ben", "Ben", ada, files=brief) as ben,
    ):
        first = await ada.files.share(tmp_path / "week1.txt", CIRCLE)
        await arrives(ben, first)
        await linked(ben, 1)
        await ben.files.get(first.id)
        pool, server = ben.files._pool, ada.files._server
        assert pool is not None
        assert server is not None
        assert pool.dialled == 1
        await eventually(lambda: not server._links, "Ada's end of the idle bulk link closing")
        second = await ada.files.share(tmp_path / "week2.txt", CIRCLE)
        await arrives(ben, second)
        got = await ben.files.get(second.id)
        assert got.presence is Presence.HERE
        assert pool.dialled == 2


def blob_files(home: Path) -> set[str]:
    """The blobs kept as files under home/blobs (not the partial downloads)."""
    root = home / "blobs"
    return {p.name for p in root.glob("??/*") if p.is_file()} if root.exists() else set()


async def test_small_blobs_live_in_the_files_database_and_large_ones_as_files(
    tmp_path: Path,
) -> None:
    notes = write(tmp_path / "notes.txt", 3000, seed=1)
    write(tmp_path / "lecture.bin", 100 * 1024, seed=2)  # above the 64 KiB kept inline
    async with (
        running(tmp_path / "ada", "Ada") as ada,
        running(tmp_path / "ben", "Ben", ada) as ben,
    ):
        small = await ada.files.share(tmp_path / "notes.txt", CIRCLE)
        large = await ada.files.share(tmp_path / "lecture.bin", CIRCLE)
        assert blob_files(tmp_path / "ada") == {large.blob.hex()}
        await arrives(ben, small)
        await arrives(ben, large)
        await linked(ben, 1)
        for shared in (small, large):
            assert (await ben.files.get(shared.id)).presence is Presence.HERE
        assert blob_files(tmp_path / "ben") == {large.blob.hex()}
        assert (await ben.files.save(small.id, tmp_path / "out.txt")).read_bytes() == notes
        await ben.files.export(tmp_path / "notes.bundle", ref=small.id)
    async with Node(Home(tmp_path / "cara"), NodeConfig(watch=False, files=FILES)) as cara:
        await cara.create_identity("Cara")
        assert (await cara.files.import_bundle(tmp_path / "notes.bundle"))[1] == 1
        assert blob_files(tmp_path / "cara") == set()
        copy = await cara.files.save(small.id, tmp_path / "from-bundle.txt")
        assert copy.read_bytes() == notes
