"""One networked node per home: a second `serve`, TUI or Node fails at once, by name."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from peernode.clock import now_ms
from peernode.errors import HomeInUse, NodeError
from peernode.home import Home, HomeLock, LockHolder, in_use_message
from peernode.net import control
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig
from peernode.text import local_time
from tests.conftest import RunCli
from tests.support.nodes import ServeProcess

LOOPBACK = NetworkConfig(port=0, host="127.0.0.1", mdns=False)
WHEN = r"(\d{4}-\d\d-\d\d )?\d\d:\d\d"
"""A local time as the message gives it."""


async def test_a_second_networked_node_on_one_home_fails_naming_the_first(
    tmp_path: Path,
) -> None:
    home = Home(tmp_path / "home")
    config = NodeConfig(network=LOOPBACK, watch=False)
    async with Node(home, config) as first:
        await first.create_identity("Ana")
        await first.start_network()
        port = (await first.status()).port
        async with Node(home, config) as second:
            with pytest.raises(HomeInUse) as raised:
                await second.start_network()
            assert re.fullmatch(
                rf"This home is already in use by another peernode \(pid {os.getpid()},"
                rf" since {WHEN}, port {port}\): stop it first \(Ctrl-C in its terminal\),"
                " or use another --home.",
                str(raised.value),
            ), raised.value
            assert not second.online
            # Offline work beside the running node goes on as before.
            await second.post("written beside the running node")
        await first.stop_network()
        async with Node(home, config) as again:  # stopping gives the home back
            await again.start_network()
            assert again.online


def test_serve_refuses_a_home_whose_node_runs(tmp_path: Path, invoke_cli: RunCli) -> None:
    home = tmp_path / "home"
    first = ServeProcess(home, name="Ana")
    try:
        second = invoke_cli("--home", str(home), "serve", "--port", "0", "--no-mdns")
        assert second.returncode != 0
        (line,) = second.stderr.strip().splitlines()
        assert re.search(
            rf"This home is already in use by 'peernode serve' \(pid {first.process.pid},"
            rf" since {WHEN}, port {first.port}\): stop it first \(Ctrl-C in its terminal\),"
            " or use another --home.$",
            line,
        ), line
        posted = invoke_cli("--home", str(home), "post", "still works beside it")
        assert posted.returncode == 0, posted.stderr
    finally:
        first.stop()


def test_the_lock_names_who_holds_it_and_since_when(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    room = HomeLock(home, role="room")
    assert room.holder() is None  # free: looking does not keep it
    room.acquire()
    try:
        holder = HomeLock(home).holder()
        assert holder is not None
        assert (holder.pid, holder.role, holder.what()) == (os.getpid(), "room", "the study room")
        assert holder.since is not None
        with pytest.raises(HomeInUse) as raised:
            HomeLock(home).acquire()
        assert str(raised.value).endswith(
            "): switch to the terminal where it is open, or quit it first, or use another --home."
        )
    finally:
        room.release()
    assert HomeLock(home).holder() is None


def test_a_lock_written_by_an_older_peernode_still_names_its_pid(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    assert LockHolder.parse("4242") == LockHolder(4242)
    assert LockHolder.parse("garbage") == LockHolder(None)
    assert LockHolder.parse('{"pid": 7, "role": "x", "since": "y"}') == LockHolder(7)
    assert in_use_message(home, LockHolder(4242)) == (
        "This home is already in use by another peernode (pid 4242): stop it first"
        " (Ctrl-C in its terminal), or use another --home."
    )


async def test_only_a_serve_stops_when_asked_a_room_is_left_alone(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    config = NodeConfig(network=LOOPBACK, watch=False, role="room")
    async with Node(home, config) as room:
        await room.create_identity("Ana")
        await room.start_network()
        with pytest.raises(NodeError) as raised:
            await control.ask_to_stop(home, within=1.0)
        assert str(raised.value) == (
            "the study room cannot be stopped from here: quit it in its terminal"
        )
        assert room.online
    await control.ask_to_stop(home)  # nothing runs: nothing to wait for


def test_since_is_a_time_today_and_a_date_before() -> None:
    now = now_ms()
    assert LockHolder(7, "serve", now).details() == f"pid 7, since {local_time(now)[11:]}"
    long_ago = now - 3 * 86_400_000
    assert LockHolder(7, "serve", long_ago).details(7420) == (
        f"pid 7, since {local_time(long_ago)}, port 7420"
    )
