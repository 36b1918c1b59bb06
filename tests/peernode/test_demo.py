"""The demo room: simulated learners on real loopback nodes, and what the learner keeps."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import select
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from peernode.demo.room import DEMO_CIRCLE, DemoRoom
from peernode.demo.script import SCRIPT
from peernode.errors import NodeError
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig
from protocol import kinds
from protocol.event import Event
from tests.conftest import RunCli
from tests.support.waiting import eventually

LOOPBACK = NetworkConfig(port=0, host="127.0.0.1", mdns=False)


@asynccontextmanager
async def learner_node(home: Home, *, online: bool = True) -> AsyncIterator[Node]:
    config = NodeConfig(network=LOOPBACK if online else None, watch=False, verify_workers=1)
    async with Node(home, config) as node:
        await node.create_identity("Lee", learning="pandas")
        await node.start_network()
        yield node


def open_sockets() -> int:
    """Sockets this process holds (Linux; 0 elsewhere, which makes the check trivial)."""
    count = 0
    for fd in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else ():
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:  # the fd listdir itself used
            continue
    return count


def running_tasks() -> list[str]:
    """Names of the tasks alive now (unnamed ones only counted), but this one."""
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
    return sorted(re.sub(r"^Task-\d+$", "Task", task.get_name()) for task in tasks)


def text_of(event: Event) -> str:
    return str(event.body.get("text", ""))


async def test_the_learner_sees_the_room_then_keeps_only_the_thread_it_replied_in(
    home: Home,
) -> None:
    async with learner_node(home) as learner:
        mine = await learner.post("My own notes on joins", channel="sql-101")
        tasks_before, sockets_before = running_tasks(), open_sockets()

        room = DemoRoom(learner, interval=(0.2, 0.4), answer_delay=(0.05, 0.1), seed=7)
        async with room:
            assert room.root is not None
            assert room.root.is_dir()
            root = room.root
            feed = [entry.event for entry in await learner.feed(DEMO_CIRCLE)]
            assert len(feed) >= len(SCRIPT)  # start() returns once the learner holds the circle
            assert {event.author for event in feed} <= room.keys
            assert all(learner.profile_of(key).name.endswith(" (demo)") for key in room.keys)
            assert any(event.kind == kinds.QUESTION for event in feed)
            assert sum(1 for event in feed if event.kind == kinds.ANSWER) >= 2
            check_in = next(event for event in feed if "check-in" in text_of(event))
            tip = next(event for event in feed if event.refs.get("reply_to") == check_in.id)

            reply = await learner.post(
                "Thanks, trying this now!", channel=DEMO_CIRCLE, reply_to=tip.id
            )

            async def answered_and_chatting() -> bool:
                events = [entry.event for entry in await learner.feed(DEMO_CIRCLE)]
                answered = any(event.refs.get("reply_to") == reply.id for event in events)
                return answered and len(events) > len(feed) + 2

            await eventually(answered_and_chatting, "an answer to the reply, and more chat")
            statuses = (await learner.status()).peers
            assert {peer.key for peer in statuses if peer.linked} == room.keys

        # Stopped: the learner keeps its reply, the note it answered and that note's parent.
        assert not root.exists()
        left = [entry.event for entry in await learner.feed(DEMO_CIRCLE)]
        assert {event.id for event in left} == {check_in.id, tip.id, reply.id}
        from_demo = [
            entry.event for entry in await learner.feed() if entry.event.author in room.keys
        ]
        kept_kinds = sorted(event.kind for event in from_demo)
        assert kept_kinds == sorted([kinds.NOTE, kinds.NOTE, kinds.PROFILE, kinds.PROFILE])
        assert learner.profile_of(tip.author).name == "Mei (demo)"  # the kept notes keep a name
        assert [entry.event.id for entry in await learner.feed("sql-101")] == [mine.id]
        assert {count.channel for count in await learner.channels()} == {DEMO_CIRCLE, "sql-101"}
        assert not any(peer.key in room.keys for peer in (await learner.status()).peers)
        assert not any(peer.key in room.keys for peer in await learner.known_peers())

        # Nothing of the room runs or listens any more; the learner is online as before.
        assert learner.online
        await eventually(lambda: running_tasks() == tasks_before, "the room's tasks to end", 5)
        await eventually(lambda: open_sockets() == sockets_before, "its sockets to close", 5)

        # New notes are still announced after the forgetting (sequence numbers were reused).
        subscription = learner.subscribe()
        after = await learner.post("still here", channel="sql-101")
        assert (await asyncio.wait_for(subscription.queue.get(), 2)).id == after.id


async def test_the_demo_room_needs_networking(home: Home, tmp_path: Path) -> None:
    async with learner_node(home, online=False) as learner:
        room = DemoRoom(learner)
        with pytest.raises(NodeError, match="networking"):
            await room.start()
        assert room.root is None
        await room.stop()
        assert await learner.feed(DEMO_CIRCLE) == []


def test_peernode_demo_is_a_command(run_cli: RunCli) -> None:
    result = run_cli("demo", "--help")
    assert result.returncode == 0, result.stderr
    assert "simulated learners" in result.stdout


# -- a program that dies during the demo ---------------------------------------------------

DEMO_UNTIL_KILLED = r"""
import asyncio, sys
from pathlib import Path
from peernode.demo.room import DemoRoom
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig

async def main(home: str) -> None:
    loopback = NetworkConfig(port=0, host="127.0.0.1", mdns=False)
    async with Node(Home(Path(home)), NodeConfig(network=loopback, verify_workers=1)) as node:
        await node.start_network()
        await DemoRoom(node, interval=(0.2, 0.4), seed=3).start()
        print("open", flush=True)
        await asyncio.sleep(3600)  # until killed: the room never stops

asyncio.run(main(sys.argv[1]))
"""


def demo_events(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM events WHERE circle = ?", (DEMO_CIRCLE,)
        ).fetchone()
    return int(count)


def test_after_a_crash_during_the_demo_the_next_start_forgets_it(
    tmp_path: Path, run_cli: RunCli, cli_env: dict[str, str]
) -> None:
    home = tmp_path / "home"
    assert run_cli("init", "--name", "Lee", "--home", str(home)).returncode == 0
    mine = run_cli("post", "my own note", "--home", str(home))
    assert mine.returncode == 0, mine.stderr
    room = subprocess.Popen(
        [sys.executable, "-c", DEMO_UNTIL_KILLED, str(home)],
        stdout=subprocess.PIPE,
        text=True,
        env=cli_env,
    )
    try:
        assert room.stdout is not None
        ready, _, _ = select.select([room.stdout], [], [], 60)
        assert ready, "the demo room did not open within 60 s"
        assert room.stdout.readline().strip() == "open"
        time.sleep(1.0)  # the members chat on
        # A command beside the live room (this one opens the database itself) leaves it be.
        beside = run_cli("post", "written beside the demo", "--home", str(home))
        assert beside.returncode == 0, beside.stderr
        held = demo_events(home / "peernode.db")
        assert held >= len(SCRIPT)
    finally:
        room.kill()  # SIGKILL: no clean-up of any kind
        room.wait(10)
        if room.stdout is not None:
            room.stdout.close()
    assert demo_events(home / "peernode.db") >= held  # still there after the crash

    # The next start, whatever the command, forgets them; the learner's own note stays.
    feed = run_cli("feed", "--home", str(home))
    assert feed.returncode == 0, feed.stderr
    assert "my own note" in feed.stdout
    assert demo_events(home / "peernode.db") == 0
