"""The demo room: a meeting cycle played by simulated learners, kept on this laptop."""

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

from peernode.clock import now_ms
from peernode.demo import DEMO_CIRCLE, DemoRoom, DemoTiming
from peernode.demo.meeting import MEETING_STARTS, MOVES
from peernode.demo.script import HISTORY
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.net.network import Network
from peernode.node import Node, NodeConfig
from protocol.event import Event
from protocol.gossip import GossipConfig
from tests.conftest import RunCli
from tests.support.waiting import eventually

FAST = DemoTiming(pace=0.005, chatter=(0.05, 0.1), answer_delay=(0.01, 0.02))
"""A whole meeting in about a third of a second."""
QUIET_AFTER_THE_MEETING = DemoTiming(pace=0.005, chatter=(3600, 3600), answer_delay=(0.01, 0.02))
"""As FAST, but no small talk after the meeting: the event counts stay put."""
LOOPBACK = NetworkConfig(
    port=0, host="127.0.0.1", mdns=False, gossip=GossipConfig(reconcile_interval=0.2)
)


@asynccontextmanager
async def learner_node(
    home: Home, name: str = "Lee", *, online: bool = False
) -> AsyncIterator[Node]:
    config = NodeConfig(network=LOOPBACK if online else None, watch=False, verify_workers=1)
    async with Node(home, config) as node:
        await node.create_identity(name, learning="pandas")
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


async def test_the_room_plays_a_meeting_that_fills_the_circle_page_meeting_mode_and_report(
    home: Home,
) -> None:
    # The default pace: the meeting starts, and every move is played, within a minute.
    assert MEETING_STARTS * DemoTiming().pace < 60
    assert MOVES[-1].at * DemoTiming().pace <= 60

    async with learner_node(home) as learner, DemoRoom(learner, timing=FAST, seed=7) as room:
        # At once: the circle's description, its members, and today's meeting scheduled.
        state = await learner.circles.state(DEMO_CIRCLE)
        assert state.description
        assert state.rhythm is not None
        assert len(state.members) == 4
        assert all(learner.profile_of(key).name.endswith(" (demo)") for key in room.keys)
        today = state.next_meeting(now_ms())
        assert today is not None
        assert today.starts_at - room.started_at == round(MEETING_STARTS * FAST.pace * 1000)

        await asyncio.wait_for(room.meeting_played.wait(), 10)
        now = now_ms()
        state = await learner.circles.state(DEMO_CIRCLE)
        today = state.next_meeting(now)
        assert today is not None
        assert today.starts_at <= now < today.ends_at  # meeting mode: in progress
        assert today.agenda.activity is not None
        assert today.agenda.activity.title
        assert sorted(rsvp.author for rsvp in today.rsvps) == sorted(room.keys)
        assert {rsvp.answer for rsvp in today.rsvps} == {"yes"}  # Tomás's maybe became a yes
        assert set(today.attendees) == room.keys
        assert len(today.checkins) == 4
        assert len(today.plusdeltas) == 4
        asked = next(q for q in state.questions if "groupby" in q.tags)
        assert asked.status == "resolved"
        assert len(asked.answers) == 2
        assert asked.helped == asked.answers[0].id
        assert len(state.shared_resources) == 2
        assert len(state.meetings) == 2  # last week's, held, and today's

        report = await learner.circles.report(DEMO_CIRCLE)
        assert [row.attendance for row in report.meetings] == [3, 4]
        assert report.attendees == 4
        assert report.repeat_attendees == 3
        assert report.questions_asked == report.questions_resolved == 2
        assert len(report.pluses) == 5
        assert len(report.deltas) == 5
        assert report.needs


async def test_the_learner_takes_part_then_keeps_only_what_it_refers_to(home: Home) -> None:
    async with learner_node(home) as learner:
        mine = await learner.post("My own notes on joins", channel="sql-101")
        tasks_before = running_tasks()

        room = DemoRoom(learner, timing=FAST, seed=7)
        async with room:
            assert room.root is not None
            assert room.root.is_dir()
            root = room.root
            feed = [entry.event for entry in await learner.feed(DEMO_CIRCLE)]
            assert len(feed) >= len(HISTORY)  # start() returns once the learner holds the past
            check_in = next(event for event in feed if "check-in" in text_of(event))
            tip = next(event for event in feed if event.refs.get("reply_to") == check_in.id)
            await asyncio.wait_for(room.meeting_played.wait(), 10)

            # The learner replies, asks, checks in at today's meeting: members answer.
            reply = await learner.post(
                "Thanks, trying this now!", channel=DEMO_CIRCLE, reply_to=tip.id
            )
            question = await learner.circles.ask(DEMO_CIRCLE, "Which chart for loans per month?")
            today = (await learner.circles.state(DEMO_CIRCLE)).next_meeting(now_ms())
            assert today is not None
            checked_in = await learner.circles.check_in(today.id, feeling="Excited")

            async def answered() -> bool:
                state = await learner.circles.state(DEMO_CIRCLE)
                events = [entry.event for entry in await learner.feed(DEMO_CIRCLE)]
                replied = any(event.refs.get("reply_to") == reply.id for event in events)
                asked = state.question(question.id)
                return replied and asked is not None and asked.status == "answered"

            await eventually(
                answered, "a reply to the learner's note and an answer to its question"
            )
            state = await learner.circles.state(DEMO_CIRCLE)
            here = state.meeting(today.id)
            assert here is not None
            assert learner.public_key in here.attendees
            # Nothing of the room, nor what the learner wrote in it, may leave this node.
            in_room = [entry.event.id for entry in await learner.feed(DEMO_CIRCLE)]
            profiles = await learner.feed("")
            demo_profiles = [e.event.id for e in profiles if e.event.author in room.keys]
            assert await learner.shared_ids([*in_room, *demo_profiles]) == set()

        # Stopped: the learner keeps what it wrote and what that refers to, still local.
        assert not root.exists()
        left = {entry.event.id: entry.event for entry in await learner.feed(DEMO_CIRCLE)}
        demo_left = {event.id for event in left.values() if event.author in room.keys}
        last_week = today.previous
        assert demo_left == {check_in.id, tip.id, today.id, last_week}
        assert {reply.id, question.id, checked_in.id} <= set(left)
        assert await learner.shared_ids(list(left)) == set()
        assert learner.profile_of(tip.author).name == "Mei (demo)"  # kept notes keep a name
        assert [entry.event.id for entry in await learner.feed("sql-101")] == [mine.id]
        assert await learner.shared_ids([mine.id]) == {mine.id}
        await eventually(lambda: running_tasks() == tasks_before, "the room's tasks to end", 5)

        # New notes are still announced after the forgetting (sequence numbers were reused).
        subscription = learner.subscribe()
        after = await learner.post("still here", channel="sql-101")
        assert (await asyncio.wait_for(subscription.queue.get(), 2)).id == after.id


def network(node: Node) -> Network:
    assert node._network is not None, "networking is not running"
    return node._network


async def in_sync(node: Node, other: Node) -> bool:
    peers = (await node.status()).peers
    return any(p.key == other.public_key and p.linked and p.in_sync for p in peers)


async def test_nothing_of_the_demo_reaches_a_real_peer_linked_meanwhile(tmp_path: Path) -> None:
    async with (
        learner_node(Home(tmp_path / "lee"), online=True) as learner,
        learner_node(Home(tmp_path / "bo"), "Bo", online=True) as peer,
    ):
        port = network(learner).port
        assert port is not None
        await peer.connect("127.0.0.1", port)
        await eventually(lambda: in_sync(learner, peer), "the learner and Bo to link and sync")
        sockets_before = open_sockets()

        async with DemoRoom(learner, timing=QUIET_AFTER_THE_MEETING, seed=3) as room:
            await asyncio.wait_for(room.meeting_played.wait(), 10)
            tip = next(e.event for e in await learner.feed(DEMO_CIRCLE) if e.event.refs)
            mine = await learner.post("about the tip", channel=DEMO_CIRCLE, reply_to=tip.id)

            async def answered() -> bool:
                events = [entry.event for entry in await learner.feed(DEMO_CIRCLE)]
                return any(event.refs.get("reply_to") == mine.id for event in events)

            await eventually(answered, "a member's reply to the learner's demo note")
            real = await learner.post("a real note, for Bo")

            async def bo_holds_what_lee_shares() -> bool:
                shared = len(await learner.time_index())
                return (
                    "a real note, for Bo" in [text_of(e.event) for e in await peer.feed()]
                    and await peer.event_count() == shared
                    and await in_sync(peer, learner)
                    and await in_sync(learner, peer)
                )

            await eventually(bo_holds_what_lee_shares, "Bo to hold, and be in sync with, Lee's")
            demo = [e.event for e in await learner.feed() if e.event.circle == DEMO_CIRCLE]
            demo += [e.event for e in await learner.feed("") if e.event.author in room.keys]
            ids = [event.id for event in demo]
            assert len(ids) > len(HISTORY) + len(MOVES)
            assert await learner.event_count() == await peer.event_count() + len(ids)
            # Not pushed, not offered, not served:
            assert await peer.raw_events(ids) == []
            assert await peer.feed(DEMO_CIRCLE) == []
            assert not any(peer_.key in room.keys for peer_ in (await peer.status()).peers)
            assert not any(event_id in network(learner)._index for event_id in ids)
            assert await learner.shared_events(ids) == []
            assert real.id in await learner.shared_ids([real.id])
            # The members hold no socket: the room opened none.
            assert open_sockets() == sockets_before

        await eventually(lambda: in_sync(peer, learner), "Bo in sync with Lee after the demo")
        assert await peer.feed(DEMO_CIRCLE) == []


def test_peernode_demo_is_a_command(run_cli: RunCli) -> None:
    result = run_cli("demo", "--help")
    assert result.returncode == 0, result.stderr
    assert "simulated learners" in result.stdout


# -- a program that dies during the demo ---------------------------------------------------

DEMO_UNTIL_KILLED = r"""
import asyncio, sys
from pathlib import Path
from peernode.demo import DemoRoom, DemoTiming
from peernode.home import Home
from peernode.node import Node, NodeConfig

async def main(home: str) -> None:
    async with Node(Home(Path(home)), NodeConfig(verify_workers=1)) as node:
        room = DemoRoom(node, timing=DemoTiming(pace=0.01, chatter=(0.2, 0.4)), seed=3)
        await room.start()
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
        time.sleep(1.0)  # the members play on
        # A command beside the live room (this one opens the database itself) leaves it be.
        beside = run_cli("post", "written beside the demo", "--home", str(home))
        assert beside.returncode == 0, beside.stderr
        held = demo_events(home / "peernode.db")
        assert held >= len(HISTORY)
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
