"""One node per home: a room opened where another process runs the node names it and
offers the choices (take over a `serve`; switch to another room), never a second node."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from textual.pilot import Pilot
from textual.widgets import Button

from peernode.home import Home, HomeLock
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig
from tests.support.nodes import cli_env
from tests.support.waiting import wait_for as wait_for_process
from tests.tui.helpers import main_screen, wait_for
from tui.app import PeernodeApp
from tui.screens.in_use import HomeInUseScreen
from tui.screens.main import MainScreen

LOOPBACK = NetworkConfig(port=0, host="127.0.0.1", mdns=False)
HOLD = """\
import sys
from pathlib import Path
from peernode.home import Home, HomeLock
HomeLock(Home(Path(sys.argv[1])), role=sys.argv[2]).acquire()
print("held", flush=True)
sys.stdin.read()
"""


@contextmanager
def held_elsewhere(home: Home, role: str) -> Iterator[subprocess.Popen[str]]:
    """Another process holds the home's lock as `role` until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(home.path), role],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        assert process.stdout.readline() == "held\n"
        yield process
    finally:
        process.stdin.close()
        process.wait(timeout=10)
        process.stdout.close()


@asynccontextmanager
async def room_on(home: Home) -> AsyncIterator[tuple[PeernodeApp, Pilot[None]]]:
    """The room over a networked node on `home`, as `peernode` opens it."""
    config = NodeConfig(network=LOOPBACK, role="room", watch_interval=0.05, verify_workers=1)
    async with Node(home, config) as node:
        app = PeernodeApp(node, no_peer_after=0.0, status_interval=0.5)
        async with app.run_test(size=(100, 30)) as pilot:
            yield app, pilot


async def in_use_screen(app: PeernodeApp, pilot: Pilot[None]) -> HomeInUseScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, HomeInUseScreen))
    screen = app.screen
    assert isinstance(screen, HomeInUseScreen)
    return screen


async def test_another_room_is_named_and_the_learner_sent_to_it(room: Home) -> None:
    home = room  # Ana's, with her profile
    with held_elsewhere(home, "room") as other:
        async with room_on(home) as (app, pilot):
            screen = await in_use_screen(app, pilot)
            assert screen.text.startswith(
                f"This home's node already runs in the study room (pid {other.pid}, since "
            )
            assert screen.text.endswith(
                "): switch to the terminal where it is open, or quit it there and check again."
            )
            assert [button.id for button in screen.query(Button)] == ["check-again", "quit"]
            await pilot.press("t")  # no take-over of another room
            await pilot.press("r")
            assert screen.error == "It still runs."
            assert not app.node.online
            assert HomeLock(home).holder() is not None
            other.stdin.close()  # type: ignore[union-attr]  # the other room quits
            other.wait(timeout=10)
            await pilot.press("r")
            await main_screen(app, pilot)
            await wait_for(pilot, lambda: app.node.online)  # the one node is now this one


@contextmanager
def serving(home: Home) -> Iterator[subprocess.Popen[bytes]]:
    """`peernode serve` on `home` (whose identity exists), once its control API is up."""
    log = home.path / "serve.log"
    argv = [sys.executable, "-m", "peernode", "--home", str(home.path), "serve", "--port", "0"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*argv, "--no-mdns"], stdout=output, stderr=subprocess.STDOUT, env=cli_env()
        )
    try:
        wait_for_process(lambda: home.runtime_path.exists(), "serve to start", 30)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=20)


async def test_a_serve_is_taken_over_and_the_room_opens_here(room: Home) -> None:
    home = room
    with serving(home) as serve:
        async with room_on(home) as (app, pilot):
            screen = await in_use_screen(app, pilot)
            assert screen.text.startswith(
                f"This home's node already runs in 'peernode serve' (pid {serve.pid},"
            )
            assert screen.text.endswith(": take over to stop it and open the room here, or quit.")
            assert not app.node.online
            await pilot.press("t")
            await main_screen(app, pilot)
            assert serve.wait(timeout=20) == 0  # it stopped cleanly, when asked
            await wait_for(pilot, lambda: app.node.online)
            holder = HomeLock(home).holder()
            assert holder is not None
            assert holder.role == "room"
            assert "stopped" in (home.path / "serve.log").read_text()
            assert isinstance(app.screen, MainScreen)
