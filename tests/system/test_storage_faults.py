"""A full disk, a read-only database and a damaged database file, through the real CLI,
`peernode serve` processes and the TUI, on real files.

The disk is a 2 MiB tmpfs and the read-only view a read-only bind mount, both mounted
here (as root); without the right to mount, those tests are skipped and say why.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from peernode.errors import DiskFull, ReadOnlyStorage
from peernode.home import Home
from peernode.node import Node, NodeConfig
from peernode.storage import DISK_FULL_MESSAGE, Store, check_file, salvage_from
from protocol import kinds
from protocol.event import create_event, decode_event
from protocol.identity import SigningKey
from tests.conftest import RunCli
from tests.support.nodes import free_port, init_homes, peernode, post_id, status_of
from tests.support.waiting import eventually, wait_for
from tests.system.test_crash_sync import Serve, committed_ids, jsonl, note_rows

ROOT = Path(__file__).resolve().parents[2]
WRITER = ROOT / "tests" / "support" / "crash_writer.py"


# -- file systems made for the test ------------------------------------------------------


def mount(args: list[str], what: str) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip(f"cannot {what}: mounting needs root and mount(8)")
    result = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"cannot {what}: mount is not permitted here ({result.stderr.strip()})")


def unmount(where: Path) -> None:
    if subprocess.run(["umount", str(where)], capture_output=True, check=False).returncode:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs: a disk that fills up."""
    where = tmp_path / "small-disk"
    where.mkdir()
    mount(["-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(where)], "mount a tmpfs")
    try:
        yield where
    finally:
        unmount(where)


def read_only_view(of: Path, where: Path) -> None:
    """Mount `of` again at `where`, read-only (unmount(where) when done)."""
    where.mkdir()
    mount(["--bind", str(of), str(where)], "bind-mount a directory")
    result = subprocess.run(
        ["mount", "-o", "remount,bind,ro", str(where)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        unmount(where)
        pytest.skip(f"cannot make a read-only bind mount ({result.stderr.strip()})")


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; removing it gives the space back."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 16, 1 << 12, 1 << 9):
            while _wrote(fd, size):
                pass
    finally:
        os.close(fd)
    return filler


def _wrote(fd: int, size: int) -> bool:
    try:
        os.write(fd, bytes(size))
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        return False
    return True


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def texts(home: Path, run_cli: RunCli) -> list[str]:
    result = run_cli("feed", "--json", "--home", str(home))
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stdout.splitlines()]
    return [entry["body"]["text"] for entry in entries if entry["kind"] == kinds.NOTE]


def integrity(db: Path) -> tuple[str, int]:
    store = Store(db)
    try:
        return store.integrity_check(), store.count()
    finally:
        store.close()


# -- a full disk ---------------------------------------------------------------------------


def test_a_full_disk_stops_writes_keeps_reads_and_recovers(
    small_disk: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    home = small_disk / "home"
    notes = jsonl(tmp_path / "notes.jsonl", note_rows("imported", 50))
    assert run_cli("init", "--name", "Ana", "--home", str(home)).returncode == 0
    assert run_cli("post", "written before", "--home", str(home)).returncode == 0
    filler = fill(small_disk)

    # Writes stop, each with one plain line ...
    refused = run_cli("post", "written on a full disk", "--home", str(home))
    assert one_line_error(refused) == f"peernode: {DISK_FULL_MESSAGE}"
    assert one_line_error(run_cli("import", str(notes), "--home", str(home))) == (
        f"peernode: {DISK_FULL_MESSAGE}"
    )
    # ... reads go on, and nothing is damaged.
    assert texts(home, run_cli) == ["written before"]
    status = run_cli("status", "--json", "--home", str(home))
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["events"] == 2
    assert integrity(home / "peernode.db") == ("ok", 2)

    filler.unlink()  # space returns: writes work again, nothing to restart
    assert run_cli("post", "written once space returned", "--home", str(home)).returncode == 0
    assert run_cli("import", str(notes), "--home", str(home)).returncode == 0
    assert texts(home, run_cli)[-1] == "written once space returned"
    assert integrity(home / "peernode.db") == ("ok", 53)


def test_a_write_refused_for_a_full_disk_leaves_no_lock_behind_in_the_process(
    small_disk: Path, invoke_cli: RunCli
) -> None:
    """Commands run one after another in one process (as the room does when it opens the
    node again): the refused write must not leave the database's file and lock open."""
    home = str(small_disk / "home")
    assert invoke_cli("init", "--name", "Ana", "--home", home).returncode == 0
    fill(small_disk)
    for text in ("first on a full disk", "second on a full disk"):
        refused = invoke_cli("post", text, "--home", home)
        assert refused.stderr.strip() == f"peernode: {DISK_FULL_MESSAGE}"
    assert not [target for target in open_files() if target.startswith(home)]


def open_files() -> list[str]:
    """What this process's file descriptors point to."""
    targets = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(FileNotFoundError):  # the listing's own descriptor
            targets.append(os.readlink(f"/proc/self/fd/{fd}"))
    return targets


async def test_ingest_refuses_quietly_on_a_full_disk_and_takes_events_again(
    small_disk: Path,
) -> None:
    """What the network layer sees: received events come back as not stored, no error."""
    other = SigningKey.generate()
    events = [
        create_event(other, kind=kinds.NOTE, circle="lobby", body={"text": f"n{i}"}, created_at=i)
        for i in range(1, 4)
    ]
    async with Node(Home(small_disk / "home"), NodeConfig(watch=False)) as node:
        node.ensure_identity()
        first = await node.ingest([events[0].raw])
        assert [e.id for e in first.new] == [events[0].id]
        filler = fill(small_disk)
        refused = await node.ingest([events[1].raw])
        assert refused.new == []
        assert refused.rejected == []
        assert node.storage_problem == DISK_FULL_MESSAGE
        with pytest.raises(DiskFull, match="the disk is full"):
            await node.post("a note of mine")
        assert [entry.event.id for entry in await node.feed()] == [events[0].id]  # reads work
        filler.unlink()
        again = await node.ingest([events[1].raw, events[2].raw])
        assert {e.id for e in again.new} == {events[1].id, events[2].id}
        assert node.storage_problem is None


async def test_a_node_notices_by_itself_when_space_returns(small_disk: Path) -> None:
    config = NodeConfig(watch_interval=0.05, write_probe_interval=0.1)
    async with Node(Home(small_disk / "home"), config) as node:
        health = node._health  # its probe counter says the node kept trying
        node.ensure_identity()
        filler = fill(small_disk)
        with pytest.raises(DiskFull):
            await node.post("a note of mine")
        counted_from = health.probes
        await eventually(lambda: health.probes >= counted_from + 10, "ten probes on the full disk")
        assert node.storage_problem == DISK_FULL_MESSAGE
        filler.unlink()  # nothing is written by anyone: the node's probe finds out
        await eventually(lambda: node.storage_problem is None, "the recovery to be noticed", 5)
        await node.post("a note of mine")


def test_a_running_node_on_a_full_disk_keeps_going(
    small_disk: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    a_home, b_home = tmp_path / "a", small_disk / "b"
    init_homes({a_home: "Ada", b_home: "Ben"})
    a = Serve(a_home, tmp_path / "a.log", port=free_port())
    b = Serve(b_home, tmp_path / "b.log", peers=[a.address])
    try:
        peernode(a_home, "post", "before the disk filled")
        wait_for(lambda: "before the disk filled" in texts(b_home, run_cli), "the first note", 30)
        filler = fill(small_disk)

        # The room goes on: b gets a's notes but cannot store them, and says so once.
        missed = {post_id(a_home, f"full {i}") for i in (1, 2)}
        wait_for(lambda: DISK_FULL_MESSAGE in b.log(), "b to report the full disk", 30)
        assert b.process.poll() is None
        refused = run_cli("post", "from b", "--home", str(b_home))
        assert one_line_error(refused) == f"peernode: {DISK_FULL_MESSAGE}"
        assert "before the disk filled" in texts(b_home, run_cli)
        assert (status_of(b_home) or {}).get("port") == b.port  # the running node answers

        filler.unlink()
        mine = post_id(b_home, "space is back")
        wait_for(lambda: mine in committed_ids(a_home), "b's note to reach a", 30)
        # What b missed is fetched as soon as it writes again (its post above), by a
        # reconciliation on the same link: within seconds, not the 60 s interval.
        wait_for(lambda: missed <= committed_ids(b_home), "b to fetch what it missed", 15)
        peernode(a_home, "post", "after the disk emptied")
        wait_for(lambda: "after the disk emptied" in texts(b_home, run_cli), "live gossip", 30)
    finally:
        b.stop(5)
        a.stop(5)
    assert integrity(b_home / "peernode.db")[0] == "ok"


async def test_the_tui_says_the_disk_is_full(small_disk: Path) -> None:
    from tests.tui.helpers import (
        ANA,
        feed_texts,
        install_key,
        main_screen,
        room_events,
        running,
        store,
        type_text,
    )
    from tests.tui.helpers import wait_for as pilot_wait_for

    home = Home(small_disk / "home")
    install_key(home, ANA)
    await store(home, room_events())
    filler = fill(small_disk)
    async with running(home) as (app, pilot):
        screen = await main_screen(app, pilot)

        def said(text: str) -> bool:
            return any(text in str(notice.message) for notice in app._notifications)

        # Opened on a full disk: the room says so before anyone writes ...
        await pilot_wait_for(
            pilot,
            lambda: any(
                notice.title == "New events are not being saved" for notice in app._notifications
            ),
        )
        # ... and a note that cannot be saved is not sent.
        await pilot.press("w")
        await type_text(pilot, "Hello room")
        await pilot.press("ctrl+s")
        await pilot_wait_for(pilot, lambda: said(f"Not sent: {DISK_FULL_MESSAGE}"))
        assert "Hello room" not in feed_texts(screen)

        filler.unlink()
        await pilot.press("ctrl+s")  # the composer kept the text: send it again
        await pilot_wait_for(pilot, lambda: "Hello room" in feed_texts(screen))


# -- a read-only database --------------------------------------------------------------------


def test_a_read_only_database_is_read_but_not_written(tmp_path: Path, run_cli: RunCli) -> None:
    home, view = tmp_path / "home", tmp_path / "read-only"
    assert run_cli("init", "--name", "Ana", "--home", str(home)).returncode == 0
    assert run_cli("post", "a note", "--home", str(home)).returncode == 0
    read_only_view(home, view)
    try:
        expected = (
            f"peernode: the database {view / 'peernode.db'} is read-only: peernode cannot"
            " save new events until it is writable again; reading still works"
        )
        assert one_line_error(run_cli("post", "refused", "--home", str(view))) == expected
        assert texts(view, run_cli) == ["a note"]
        status = run_cli("status", "--json", "--home", str(view))
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["events"] == 2
    finally:
        unmount(view)
    assert integrity(home / "peernode.db") == ("ok", 2)
    assert run_cli("post", "writable again", "--home", str(home)).returncode == 0


async def test_a_read_only_node_refuses_writes_and_ingest_stores_nothing(
    tmp_path: Path, run_cli: RunCli
) -> None:
    home, view = tmp_path / "home", tmp_path / "read-only"
    assert run_cli("init", "--name", "Ana", "--home", str(home)).returncode == 0
    read_only_view(home, view)
    try:
        async with Node(Home(view), NodeConfig(watch=False)) as node:
            assert "read-only" in (node.storage_problem or "")
            with pytest.raises(ReadOnlyStorage):
                await node.post("refused")
            other = SigningKey.generate()
            event = create_event(
                other, kind=kinds.NOTE, circle="lobby", body={"text": "x"}, created_at=1
            )
            result = await node.ingest([event.raw])
            assert result.new == []
            assert result.rejected == []
            assert await node.event_count() == 1
    finally:
        unmount(view)


# -- a damaged database ------------------------------------------------------------------------


def read_only(db: Path) -> sqlite3.Connection:
    """A connection that never checkpoints the WAL into the file (left as it is)."""
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True)


def pages_in_wal(db: Path) -> set[int]:
    """Page numbers with a copy in the WAL: damage to those in the file would not show."""
    wal = db.with_name(db.name + "-wal")
    data = wal.read_bytes() if wal.exists() else b""
    if len(data) < 32:
        return set()
    size = int.from_bytes(data[8:12], "big")
    return {
        int.from_bytes(data[offset : offset + 4], "big")
        for offset in range(32, len(data) - 24 - size + 1, 24 + size)
    }


def damage(db: Path, rng: random.Random, leaves: int = 3) -> list[int]:
    """Overwrite with random bytes `leaves` leaf pages of the events table from the middle of
    the file and one page of the time index (pages with no newer copy in the WAL)."""
    in_wal = pages_in_wal(db)
    with read_only(db) as conn:
        size = conn.execute("PRAGMA page_size").fetchone()[0]

        def pages(name: str, kind: str) -> list[int]:
            rows = conn.execute(
                "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = ? ORDER BY pageno",
                (name, kind),
            )
            return [page for (page,) in rows if page not in in_wal]

        table, index = pages("events", "leaf"), pages("events_by_time", "leaf")
    conn.close()
    assert len(table) > leaves, "not enough pages to damage"
    assert index, "no index page to damage"
    middle = len(table) // 2
    chosen = [*table[middle : middle + leaves], index[len(index) // 2]]
    with db.open("r+b") as handle:
        for page in chosen:
            handle.seek((page - 1) * size)
            handle.write(rng.randbytes(size))
    return chosen


def test_a_damaged_database_is_found_at_start_then_repaired_and_refilled(
    tmp_path: Path, run_cli: RunCli
) -> None:
    a_home, b_home = tmp_path / "a", tmp_path / "b"
    init_homes({a_home: "Ada", b_home: "Ben"})
    peernode(a_home, "import", str(jsonl(tmp_path / "a.jsonl", note_rows("note", 3000))))
    a = Serve(a_home, tmp_path / "a.log")
    try:
        b = Serve(b_home, tmp_path / "b.log", peers=[a.address])
        try:
            own = post_id(b_home, "b's own note")
            wait_for(lambda: own in committed_ids(a_home), "b's note to reach a", 30)
            wait_for(lambda: committed_ids(a_home) <= committed_ids(b_home), "b to catch up", 60)
        finally:
            b.kill()
        db = b_home / "peernode.db"
        integrity(db)  # the last connection to close moves the WAL into the file
        with read_only(db) as conn:
            held = {event_id for (event_id,) in conn.execute("SELECT id FROM events")}
        conn.close()
        pages = damage(db, random.Random(17))

        # Start-up finds it: one line, with the way out.
        started = run_cli("serve", "--no-mdns", "--port", "0", "--home", str(b_home), timeout=60)
        line = one_line_error(started)
        assert "damaged" in line, line
        assert "peernode repair" in line, line
        assert "peernode repair" in one_line_error(run_cli("feed", "--home", str(b_home)))

        repaired = run_cli("repair", "--home", str(b_home))
        assert repaired.returncode == 0, repaired.stderr
        assert "salvaged" in repaired.stdout, repaired.stdout
        (aside,) = b_home.glob("peernode.db.damaged-*[0-9]")
        assert check_file(aside) is not None  # kept as it was: still damaged
        assert integrity(db)[0] == "ok"
        salvaged = committed_ids(b_home)
        assert salvaged < held, f"damaged pages {pages}"
        assert len(salvaged) >= len(held) - 100  # only what the damaged pages held
        store = Store(db)
        try:
            for row in store.feed():
                decode_event(row.raw)  # every salvaged event verifies
        finally:
            store.close()

        # A real peer fills in the rest.
        b = Serve(b_home, tmp_path / "b-again.log", peers=[a.address])
        try:
            wait_for(lambda: held <= committed_ids(b_home), "b to re-sync what was lost", 60)
        finally:
            b.stop(5)
    finally:
        a.stop(5)
    assert integrity(db)[0] == "ok"


def test_repair_keeps_the_wal_and_salvages_through_it(tmp_path: Path, run_cli: RunCli) -> None:
    """A writer killed with SIGKILL leaves a WAL; repair moves it aside with the file and
    reads the events committed only there."""
    home = tmp_path / "home"
    home.mkdir()
    db = home / "peernode.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen(
        [sys.executable, str(WRITER), str(db), "0", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert writer.stdout is not None
    acked: list[bytes] = []
    assert writer.stdout.readline() == b"ready\n"
    while len(acked) < 3000:
        acked.append(bytes.fromhex(writer.stdout.readline().decode().strip()))
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    writer.stdout.close()
    assert pages_in_wal(db), "the writer left no WAL"
    damage(db, random.Random(5), leaves=2)

    assert "peernode repair" in one_line_error(run_cli("feed", "--home", str(home)))
    repaired = run_cli("repair", "--home", str(home))
    assert repaired.returncode == 0, repaired.stderr
    (aside,) = home.glob("peernode.db.damaged-*[0-9]")
    assert aside.with_name(aside.name + "-wal").exists()
    assert integrity(db)[0] == "ok"
    salvaged = committed_ids(home)
    assert len(salvaged & set(acked)) >= len(acked) - 100  # only what the damaged pages held
    assert acked[-1] in salvaged  # the newest were committed in the WAL only


def test_repair_of_a_sound_database_changes_nothing(tmp_path: Path, run_cli: RunCli) -> None:
    home = tmp_path / "home"
    assert run_cli("init", "--name", "Ana", "--home", str(home)).returncode == 0
    result = run_cli("repair", "--home", str(home))
    assert result.returncode == 0, result.stderr
    assert "nothing to repair" in result.stdout
    assert not list(home.glob("peernode.db.damaged-*"))


def test_salvage_steps_over_a_damaged_interior_page(tmp_path: Path) -> None:
    """Rows under a damaged interior page of the table are unreadable; the rest is kept."""
    key = SigningKey.generate()
    old = Store(tmp_path / "old.db")
    events = [  # big rows, so the table has interior pages below its root
        create_event(key, kind=kinds.NOTE, circle="c", body={"text": "x" * 1500}, created_at=i)
        for i in range(1, 1501)
    ]
    old.insert_events(events, received_at=7)
    old.close()  # checkpointed: every page is in the file
    with read_only(tmp_path / "old.db") as conn:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'events'"
        ).fetchone()
        interior = [
            page
            for (page,) in conn.execute(
                "SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'internal'"
                " ORDER BY pageno"
            )
            if page != root
        ]
    conn.close()
    assert interior, "the table has no interior page below its root"
    with (tmp_path / "old.db").open("r+b") as handle:
        handle.seek((interior[len(interior) // 2] - 1) * size)
        handle.write(random.Random(3).randbytes(size))

    fresh = Store(tmp_path / "new.db")
    try:
        salvage = salvage_from(fresh, tmp_path / "old.db")
        assert not salvage.complete
        assert 0 < salvage.stored < len(events)
        assert salvage.stored == fresh.count() == salvage.read - salvage.invalid
        assert fresh.integrity_check() == "ok"
        assert {row.received_at for row in fresh.feed()} == {7}
    finally:
        fresh.close()


def test_damaged_event_bytes_point_at_repair_which_drops_them(
    tmp_path: Path, run_cli: RunCli
) -> None:
    """Damage inside a row keeps the pages well-formed: reading it names `peernode repair`,
    and repair --force keeps only the events that verify."""
    home = tmp_path / "home"
    assert run_cli("init", "--name", "Ana", "--home", str(home)).returncode == 0
    for text in ("kept", "garbled", "forged"):
        assert run_cli("post", text, "--home", str(home)).returncode == 0
    with sqlite3.connect(home / "peernode.db") as conn:
        # msgpack damaged in one event; the signature of another.
        conn.execute(
            "UPDATE events SET raw = CAST(substr(raw, 1, 65) || X'c1c1c1c1c1' || substr(raw, 71)"
            " AS BLOB) WHERE instr(raw, CAST('garbled' AS BLOB))"
        )
        conn.execute(
            "UPDATE events SET raw = CAST(zeroblob(8) || substr(raw, 9) AS BLOB)"
            " WHERE instr(raw, CAST('forged' AS BLOB))"
        )
    conn.close()
    assert "peernode repair" in one_line_error(run_cli("feed", "--home", str(home)))
    assert "nothing to repair" in run_cli("repair", "--home", str(home)).stdout
    repaired = run_cli("repair", "--force", "--home", str(home))
    assert repaired.returncode == 0, repaired.stderr
    assert "salvaged 2 events" in repaired.stdout
    assert "2 failed verification" in repaired.stdout
    assert texts(home, run_cli) == ["kept"]
