"""A peer that completes the handshake and then never reads: closing its link frees the socket.

Before, the close waited for aiohttp's close handshake and, when that timed out, only
closed the transport, which waits to send what is buffered: forever, for a peer that
never reads. Every such link kept its socket and megabytes of queued data.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from peernode.home import Home
from peernode.net.config import LinkConfig, NetworkConfig
from peernode.node import Node, NodeConfig
from tests.support.hostile import CLOSE_WITHIN, HostilePeer
from tests.support.waiting import eventually

HOST = "127.0.0.1"


@contextlib.asynccontextmanager
async def node_with_short_heartbeat(home: Path) -> AsyncIterator[Node]:
    network = NetworkConfig(port=0, host=HOST, mdns=False, link=LinkConfig(heartbeat=0.5))
    async with Node(Home(home), NodeConfig(network=network, verify_workers=1, watch=False)) as node:
        await node.create_identity("Ada")
        await node.start_network()
        yield node


def tcp_connections(local_port: int, remote_port: int) -> list[str]:
    """Kernel entries of TCP connections from local_port to remote_port on loopback,
    closed or not by the process (an orphaned socket with unsent data still counts)."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == local_port and int(remote.split(":")[1], 16) == (
            remote_port
        ):
            found.append(line)
    return found


async def test_a_peer_that_stops_reading_is_closed_and_its_connection_freed(
    tmp_path: Path,
) -> None:
    async with node_with_short_heartbeat(tmp_path / "ada") as node:
        assert node._network is not None
        port = node._network.port
        assert port is not None
        mallory = await HostilePeer.link(port, receive_buffer=4096)
        try:
            await mallory.until_accepted(CLOSE_WITHIN)
            mine = mallory.ws.local_port
            # Enough pushed to a peer that reads nothing to fill both kernel buffers.
            for n in range(300):
                await node.post(f"note {n}: " + "x" * 900, channel="sql")

            async def gone() -> bool:
                return not any(p.linked for p in (await node.status()).peers)

            await eventually(gone, "the silent peer's link to close", within=20)

            async def freed() -> bool:
                return not tcp_connections(port, mine)

            await eventually(freed, "the node's end of the connection to be freed", within=10)
        finally:
            await mallory.ws.close()
