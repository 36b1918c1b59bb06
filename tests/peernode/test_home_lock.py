"""One networked node per home: a second `serve`, TUI or Node fails at once, by name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from peernode.errors import HomeInUse
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig
from tests.conftest import RunCli
from tests.support.nodes import ServeProcess

LOOPBACK = NetworkConfig(port=0, host="127.0.0.1", mdns=False)


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
            assert str(raised.value) == (
                f"another peernode (pid {os.getpid()}, port {port}) is already running"
                " on this home; stop it first, or use another --home"
            )
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
        assert line.endswith(
            f"another peernode (pid {first.process.pid}, port {first.port}) is already"
            " running on this home; stop it first, or use another --home"
        ), line
        posted = invoke_cli("--home", str(home), "post", "still works beside it")
        assert posted.returncode == 0, posted.stderr
    finally:
        first.stop()
