"""A start of networking cut short (cancelled, as when the app quits) leaves no socket open."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import pytest

from peernode.api import ApiConfig
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig
from tests.support.sockets import tcp_sockets
from tests.support.waiting import eventually

LISTEN = "0A"  # the state of a listening socket in /proc/net/tcp


def listening() -> set[int]:
    """Ports this process listens on now."""
    return {c.local_port for c in tcp_sockets(os.getpid()) if c.state == LISTEN}


@pytest.mark.parametrize("steps_after_listening", [0, 3, 10, 30])
async def test_a_start_cancelled_part_way_closes_what_it_opened(
    tmp_path: Path, steps_after_listening: int
) -> None:
    # The peer listener opens first; the rest of the start (the index, the API, the control
    # port) takes many loop steps more, in which a cancel lands.
    network = NetworkConfig(port=0, host="127.0.0.1", mdns=False)
    config = NodeConfig(network=network, api=ApiConfig(port=0), watch=False)
    before = listening()
    async with Node(Home(tmp_path / "home"), config) as node:
        node.ensure_identity()
        start = asyncio.create_task(node.start_network())
        await eventually(lambda: listening() - before or start.done(), "a listener", every=0)
        for _ in range(steps_after_listening):
            await asyncio.sleep(0)
        start.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await start
        assert not node.online or listening() - before  # stopped, or fully started
    assert listening() == before
