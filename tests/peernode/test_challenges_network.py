"""A badge earned across the network: two real nodes linked over loopback."""

from __future__ import annotations

from pathlib import Path

from peernode.challenges.model import Criterion
from peernode.errors import BadInput
from peernode.node import Node
from tests.peernode.test_circles_network import address, room_node
from tests.support.waiting import eventually


async def knows(node: Node, ref: bytes) -> bool:
    try:
        await node.challenges.get(ref)
    except BadInput:
        return False
    return True


async def test_work_with_a_file_and_its_approval_earn_the_badge_on_both_nodes(
    tmp_path: Path,
) -> None:
    joins = tmp_path / "joins.sql"
    joins.write_text("SELECT name FROM customers LEFT JOIN orders USING (id);\n")
    async with (
        room_node(tmp_path / "ana", "Ana") as ana,
        room_node(tmp_path / "ben", "Ben", peers=(address(ana),)) as ben,
    ):
        await ana.circles.create("sql", name="SQL basics", topic="databases")

        async def ben_sees_the_circle() -> bool:
            return bool((await ben.circles.state("sql")).history)

        await eventually(ben_sees_the_circle, "the circle at Ben's node")
        await ben.circles.join("sql")
        challenge = await ana.challenges.create(
            "sql",
            title="Joins",
            question="Who never ordered?",
            tasks=["Write the join"],
            criteria=[Criterion("Correct", "the rows asked for"), Criterion("Explained", "why")],
            badge="Join explorer",
            k=1,
        )
        await eventually(lambda: knows(ben, challenge.id), "the challenge at Ben's node")
        await ben.challenges.start(challenge.id)
        work = await ben.challenges.submit(challenge.id, "# My join", [joins])
        (file,) = work.body["files"]

        async def waits_for_ana() -> bool:
            return await ana.challenges.waiting_for_me(work.id) is not None

        await eventually(waits_for_ana, "Ben's work at Ana's node, waiting for her review")
        fetched = await ana.files.get(file)  # the file of the work, over the bulk path
        assert (fetched.name, fetched.complete) == ("joins.sql", True)
        await ana.challenges.review(work.id, approve=True, works="Neat join")

        async def badge_on(node: Node) -> list[tuple[bytes, bytes, list[bytes]]]:
            return [
                (b.holder, b.submission, [a.reviewer for a in b.approvals])
                for b in await node.challenges.badges()
            ]

        expected = [(ben.public_key, work.id, [ana.public_key])]
        await eventually(lambda: badge_on(ben), "the badge derived at Ben's node")
        assert await badge_on(ben) == await badge_on(ana) == expected
        (on_bens,) = await ben.challenges.in_circle("sql")
        assert on_bens.holders == (ben.public_key,)
        assert on_bens.cohort == (ben.public_key,)
