"""One node per home: a room opened where another process runs the node names it and
offers the choices (take over a `serve`; switch to another room), never a second node."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Button

from peernode.home import Home, HomeLock
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig
from tests.support.nodes import cli_env
from tests.support.waiting import wait_for as wait_for_process
from tests.tui.helpers import main_screen, wait_for
from tests.tui.test_live_peers import peer_node, until
from tui.app import PeernodeApp
from tui.screens.in_use import HomeInUseScreen
from tui.screens.main import MainScreen
from tui.widgets.status import SyncIndicator, identity_text

LOOPBACK = NetworkConfig(port=0, host="127.0.0.1", mdns=False)
OTHER_ROOM = """\
import asyncio, sys
from pathlib import Path
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig

async def main():
    network = NetworkConfig(port=0, host="127.0.0.1", mdns=False)
    config = NodeConfig(network=network, role="room", watch_interval=0.05, verify_workers=1)
    async with Node(Home(Path(sys.argv[1])), config) as node:
        await node.start_network()
        print((await node.status()).port, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


@contextmanager
def other_room(home: Home) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """The node of another room on `home`, in another process, until the block ends
    (or its stdin is closed); with the port it listens on."""
    process = subprocess.Popen(
        [sys.executable, "-c", OTHER_ROOM, str(home.path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        port = int(process.stdout.readline())
        yield process, port
    finally:
        if not process.stdin.closed:
            process.stdin.close()
        process.wait(timeout=20)
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


async def test_the_room_attaches_to_another_rooms_node_and_writes_through_it(
    room: Home, tmp_path: Path
) -> None:
    home = room  # Ana's, with her profile
    with other_room(home) as (other, other_port):
        async with room_on(home) as (app, pilot), peer_node(tmp_path / "bo", "Bo") as bo:
            screen = await in_use_screen(app, pilot)
            assert screen.text.startswith(
                f"This home's node already runs in the study room (pid {other.pid}, since "
            )
            assert screen.text.endswith(
                "): attach to it here, or quit and go on in the terminal where it is open."
            )
            assert [button.id for button in screen.query(Button)] == ["attach", "quit"]
            await pilot.press("a")
            main = await main_screen(app, pilot)
            assert app.node.attached
            assert not app.node.online  # one node per home: still the other process's
            holder = HomeLock(home).holder()
            assert holder is not None
            assert holder.pid == other.pid
            await wait_for(pilot, lambda: f"port {other_port}" in identity_text(main.status))

            bo_port = (await bo.status()).port
            assert bo_port is not None
            await app.node.connect("127.0.0.1", bo_port)  # Add peer, through the other node
            sync = main.query_one(SyncIndicator)
            await wait_for(pilot, lambda: sync.text.endswith("of 1 peer"))
            await app.node.post("Written in the attached room")
            await until(pilot, lambda: has_note(bo, "Written in the attached room"))

            other.stdin.close()  # type: ignore[union-attr]  # the other room quits
            await wait_for(pilot, lambda: app.node.online, within=20)  # the node runs here now
            assert not app.node.attached
            holder = HomeLock(home).holder()
            assert holder is not None
            assert holder.pid == os.getpid()


async def has_note(node: Node, text: str) -> bool:
    return any(entry.event.body.get("text") == text for entry in await node.feed("lobby"))


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
            assert screen.text.endswith(
                ": attach to it here, take it over (stop it and run the node here), or quit."
            )
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
