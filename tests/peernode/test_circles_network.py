"""A circle outlives its organiser: real nodes linked over loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from peernode.clock import now_ms
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig
from tests.support.waiting import eventually

HOUR_MS = 3_600_000


@contextlib.asynccontextmanager
async def room_node(
    path: Path, name: str, peers: tuple[tuple[str, int], ...] = ()
) -> AsyncIterator[Node]:
    network = NetworkConfig(port=0, host="127.0.0.1", mdns=False, peers=peers)
    async with Node(Home(path), NodeConfig(network=network, watch=False)) as node:
        await node.create_identity(name)
        await node.start_network()
        yield node


def address(node: Node) -> tuple[str, int]:
    port = node._network.port if node._network else None  # test-only peek at the bound port
    assert port is not None
    return ("127.0.0.1", port)


async def test_the_circle_survives_its_organiser(tmp_path: Path) -> None:
    async with room_node(tmp_path / "ben", "Ben") as ben:  # noqa: SIM117 - nodes stop in turn
        async with (
            room_node(tmp_path / "cleo", "Cleo", peers=(address(ben),)) as cleo,
            room_node(tmp_path / "dee", "Dee", peers=(address(cleo),)) as dee,
        ):
            async with room_node(tmp_path / "ada", "Ada", peers=(address(ben),)) as ada:
                await ada.circles.create("sql-basics", name="SQL basics", topic="databases")

                async def joined_by_ben() -> bool:
                    return bool((await ben.circles.state("sql-basics")).history)

                await eventually(joined_by_ben, "the circle at Ben's node")
                await ben.circles.join("sql-basics")
            # Ada, who created the circle, has left the room (her node stopped).

            async def cleo_knows_ben_joined() -> bool:
                state = await cleo.circles.state("sql-basics")
                return any(member.key == ben.public_key for member in state.members)

            await eventually(cleo_knows_ben_joined, "Ben's join at Cleo's node")
            await cleo.circles.join("sql-basics")
            meeting = await cleo.circles.schedule_meeting(
                "sql-basics", starts_at=now_ms() + HOUR_MS, place="library, room 2"
            )
            await cleo.circles.check_in(meeting.id, feeling="curious", need_help="joins")

            async def ben_sees_the_meeting() -> bool:
                state = await ben.circles.state("sql-basics")
                return any(m.id == meeting.id for m in state.meetings)

            await eventually(ben_sees_the_meeting, "Cleo's meeting at Ben's node")
            await ben.circles.check_in(meeting.id, feeling="tired", working_on="chapter 4")

            async def dee_sees_the_meeting() -> bool:
                state = await dee.circles.state("sql-basics")
                return any(m.id == meeting.id for m in state.meetings)

            await eventually(dee_sees_the_meeting, "Cleo's meeting at Dee's node")
            await dee.circles.join("sql-basics")
            await dee.circles.check_in(meeting.id, working_on="exercises", need_help="GROUP BY")
            members = {ben.public_key, cleo.public_key, dee.public_key}

            async def three_checkins_everywhere() -> bool:
                for node in (ben, cleo, dee):
                    state = await node.circles.state("sql-basics")
                    (found,) = [m for m in state.meetings if m.id == meeting.id]
                    if {c.author for c in found.checkins} != members:
                        return False
                return True

            await eventually(three_checkins_everywhere, "three check-ins at all three nodes")
            state = await ben.circles.state("sql-basics")
            assert state.title == "SQL basics"
            assert {m.key for m in state.members} >= members
