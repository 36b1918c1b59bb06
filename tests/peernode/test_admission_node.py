"""Admission on a real node: what strangers' events a node stores, with real SQLite files and,
for reconciliation, two real nodes linked over loopback."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from peernode.admission import AdmissionConfig
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.node import IngestResult, Node, NodeConfig
from protocol import kinds, wire
from protocol.event import Event, create_event
from protocol.gossip import GossipConfig, Send
from protocol.identity import SigningKey
from tests.peernode.test_network import free_port
from tests.support.waiting import eventually

PEER = b"p" * 32
HOST = "127.0.0.1"


def notes(key: SigningKey, count: int, circle: str = "lobby") -> list[Event]:
    return [
        create_event(
            key, kind=kinds.NOTE, circle=circle, body={"text": f"note {i}"}, created_at=1_000 + i
        )
        for i in range(count)
    ]


def raws(events: Sequence[Event]) -> list[bytes]:
    return [event.raw for event in events]


async def stored_of(node: Node, author: bytes) -> int:
    return sum(1 for entry in await node.feed() if entry.event.author == author)


def forged(event: Event) -> bytes:
    """The event's bytes with a signature that does not verify."""
    return bytes(64) + event.raw[64:]


async def test_a_stranger_over_budget_is_declined_before_its_signatures_are_checked(
    tmp_path: Path,
) -> None:
    """Verifying is most of what a Sybil's events cost: past a stranger's budget its
    events are declined for the author they claim, valid or not, and never stored; a
    familiar author's are still verified (a forgery is rejected, and scores its sender)."""
    stranger, friend = SigningKey.generate(), SigningKey.generate()
    async with Node(Home(tmp_path / "me"), NodeConfig(watch=False)) as node:
        await node.create_identity("Me")
        node.trust_peer(friend.public_key)
        quota = AdmissionConfig().per_author_events
        first = await node.ingest(raws(notes(stranger, quota)), PEER)
        assert len(first.new) == quota

        late = notes(stranger, 50, circle="sql")
        result = await node.ingest([forged(e) for e in late[:25]] + raws(late[25:]), PEER)
        assert len(result.declined_unverified) == 50
        assert result.rejected == []
        assert result.new == []
        assert await stored_of(node, stranger.public_key) == quota

        mine = notes(friend, 2)
        result = await node.ingest([forged(mine[0]), mine[1].raw], PEER)
        assert [event.id for event in result.new] == [mine[1].id]
        assert len(result.rejected) == 1
        assert result.declined_unverified == []


async def test_only_a_strangers_quota_is_stored(tmp_path: Path) -> None:
    stranger = SigningKey.generate()
    async with Node(Home(tmp_path / "me"), NodeConfig(watch=False)) as node:
        await node.create_identity("Me")

        result = await node.ingest(raws(notes(stranger, 1_000)), PEER)

        quota = AdmissionConfig().per_author_events
        assert len(result.new) == quota
        assert len(result.declined) == 1_000 - quota
        assert result.rejected == []  # declined is not invalid
        assert await stored_of(node, stranger.public_key) == quota
        again = await node.ingest(raws(notes(stranger, 1_000)), PEER)
        assert again.new == []
        # Over its budget for today: declined from what they claim, before verification.
        assert again.declined == []
        assert len(again.declined_unverified) == 1_000 - quota


async def test_a_restart_gives_strangers_no_fresh_day(tmp_path: Path) -> None:
    config = NodeConfig(watch=False, admission=AdmissionConfig(total_events=400))
    async with Node(Home(tmp_path / "me"), config) as node:
        await node.create_identity("Me")
        first = await node.ingest(raws(notes(SigningKey.generate(), 1_000)), PEER)
        assert len(first.new) == 300
    async with Node(Home(tmp_path / "me"), config) as node:
        second = await node.ingest(raws(notes(SigningKey.generate(), 1_000)), PEER)

        assert len(second.new) == 100  # 400 a day in all, restart or not


async def test_a_circle_members_events_are_all_stored(tmp_path: Path) -> None:
    member = SigningKey.generate()
    async with Node(Home(tmp_path / "me"), NodeConfig(watch=False)) as node:
        await node.create_identity("Me")
        await node.circles.create("sql", name="SQL basics")
        join = create_event(member, kind=kinds.JOIN, circle="sql", body={}, created_at=999)
        await node.ingest([join.raw], PEER)

        result = await node.ingest(raws(notes(member, 1_000, circle="sql")), PEER)

        assert len(result.new) == 1_000
        assert result.declined == []


async def test_a_peer_linked_now_is_familiar_only_from_the_next_start(tmp_path: Path) -> None:
    newcomer = SigningKey.generate()
    async with Node(Home(tmp_path / "me"), NodeConfig(watch=False)) as node:
        await node.create_identity("Me")
        await node.remember_peer(newcomer.public_key, "New", "10.0.0.9", 7420)
        await node.circles.create("sql", name="SQL basics")  # who is familiar is worked out again

        first = await node.ingest(raws(notes(newcomer, 400)), PEER)

        assert len(first.new) == AdmissionConfig().per_author_events
    async with Node(Home(tmp_path / "me"), NodeConfig(watch=False)) as node:
        again = await node.ingest(raws(notes(newcomer, 400)), PEER)

        assert len(again.new) == 400 - AdmissionConfig().per_author_events
        assert again.declined == []


async def test_a_blocked_author_is_declined_and_not_shared(tmp_path: Path) -> None:
    ben = SigningKey.generate()
    async with Node(Home(tmp_path / "me"), NodeConfig(watch=False)) as node:
        await node.create_identity("Me")
        before = notes(ben, 3)
        await node.ingest(raws(before), None)  # from no peer: stored as today
        await node.moderate(ben.public_key, "block")

        result = await node.ingest(
            [
                create_event(
                    ben, kind=kinds.NOTE, circle="lobby", body={"text": "again"}, created_at=5
                ).raw
            ]
        )

        assert result.new == []
        assert len(result.declined) == 1
        assert await node.shared_ids([event.id for event in before]) == set()
        assert await stored_of(node, ben.public_key) == 0  # hidden from the feed too
        assert ben.public_key not in {key for _, key in await _index_authors(node, before)}
        await node.unmoderate(ben.public_key, "block")
        assert await node.shared_ids([event.id for event in before]) == {e.id for e in before}


async def _index_authors(node: Node, events: Sequence[Event]) -> list[tuple[int, bytes]]:
    """(created_at, author) of `events` that are in the reconciliation index."""
    index = {event_id_ for _, event_id_ in await node.time_index()}
    return [(event.created_at, event.author) for event in events if event.id in index]


# -- reconciliation between two real nodes ------------------------------------------------------


def fast(
    peers: Sequence[tuple[str, int]] = (),
    admission: AdmissionConfig | None = None,
    port: int = 0,
) -> NodeConfig:
    gossip = GossipConfig(reconcile_interval=0.3, resync_delay=0.1, cascade_delay=0.1)
    network = NetworkConfig(
        port=port,
        host=HOST,
        mdns=False,
        peers=tuple(peers),
        gossip=gossip,
        reconnect_min=0.1,
        reconnect_max=0.2,
        manual_interval=0.1,
    )
    return NodeConfig(
        network=network,
        verify_workers=1,
        watch=False,
        admission=admission or AdmissionConfig(),
    )


@contextlib.asynccontextmanager
async def running(path: Path, name: str, config: NodeConfig) -> AsyncIterator[Node]:
    async with Node(Home(path), config) as node:
        await node.create_identity(name)
        await node.start_network()
        yield node


def linked_to_anyone(node: Node) -> bool:
    network = node._network
    return network is not None and any(peer.linked for peer in network.peer_statuses())


class Traffic:
    """What a node asks for and ingests: Want ids sent, events ingested, sessions ended."""

    def __init__(self, node: Node) -> None:
        assert node._network is not None
        self.counts: Counter[str] = Counter()
        self.wanted: set[bytes] = set()
        engine = node._network.engine
        drain, ingest = engine.actions, node.ingest

        def actions() -> list[object]:
            out = drain()
            for action in out:
                if isinstance(action, Send):
                    message = wire.decode(action.data)
                    if isinstance(message, wire.Want):
                        self.counts["wanted"] += len(message.ids)
                        self.wanted.update(message.ids)
                    elif isinstance(message, wire.ReconcileDone):
                        self.counts["sessions"] += 1
            return out

        async def counted(raws_: Sequence[bytes], sender: bytes | None = None) -> IngestResult:
            self.counts["ingested"] += len(raws_)
            result = await ingest(raws_, sender)
            self.counts["declined"] += len(result.declined)
            return result

        engine.actions = actions  # type: ignore[method-assign]
        node.ingest = counted  # type: ignore[method-assign]


async def test_declined_events_are_not_asked_for_again(tmp_path: Path) -> None:
    stranger = SigningKey.generate()
    flood = notes(stranger, 200)
    budget = AdmissionConfig(per_author_events=20)
    async with running(tmp_path / "ada", "Ada", fast()) as ada:
        await ada.ingest(raws(flood))  # Ada holds a stranger's 200 events
        port = ada._network.port if ada._network else 0
        async with running(tmp_path / "ben", "Ben", fast([(HOST, port)], budget)) as ben:
            traffic = Traffic(ben)

            async def settled() -> bool:
                return traffic.counts["declined"] == 180

            await eventually(settled, "Ben declining 180 of the stranger's events")
            assert await stored_of(ben, stranger.public_key) == 20
            after = traffic.counts.copy()

            async def two_more_rounds() -> bool:
                return traffic.counts["sessions"] >= after["sessions"] + 2

            await eventually(two_more_rounds, "two more reconciliation rounds")
            assert traffic.counts["wanted"] == after["wanted"]
            assert traffic.counts["ingested"] == after["ingested"]


async def test_a_blocked_peer_loses_its_link_and_gets_no_new_one(tmp_path: Path) -> None:
    port = free_port()  # kept when Ada's networking restarts
    async with (
        running(tmp_path / "ada", "Ada", fast(port=port)) as ada,
        running(tmp_path / "ben", "Ben", fast([(HOST, port)])) as ben,
    ):
        await eventually(lambda: linked_to_anyone(ada), "Ben linked to Ada")
        before = ada._network
        await ada.moderate(ben.public_key, "block")
        network = ada._network  # networking restarted: the index leaves Ben out
        assert network is not None
        assert network is not before
        assert network.port == port  # same port: Ben dials it again and again
        accepted = Counter[str]()
        own_link = network._own_link

        async def counted(link: Any, dialled_port: int | None) -> None:
            accepted["links"] += 1
            await own_link(link, dialled_port)

        network._own_link = counted  # type: ignore[method-assign]
        await ben.post("are you there?")

        await eventually(lambda: accepted["links"] >= 2, "Ben dialling Ada again")
        assert not linked_to_anyone(ada)
        assert "are you there?" not in [entry.body.get("text") for entry in await ada.feed()]


async def test_a_block_from_another_process_reaches_the_running_node(tmp_path: Path) -> None:
    port = free_port()
    watching = replace(fast(port=port), watch=True, watch_interval=0.05)
    async with (
        running(tmp_path / "ada", "Ada", watching) as ada,
        running(tmp_path / "ben", "Ben", fast([(HOST, port)])) as ben,
    ):
        await eventually(lambda: linked_to_anyone(ada), "Ben linked to Ada")
        async with Node(Home(tmp_path / "ada"), NodeConfig(watch=False)) as command:
            await command.moderate(ben.public_key, "block")  # as `peernode block` does

        await eventually(lambda: ada.is_blocked(ben.public_key), "Ada's node noticing")
        await eventually(lambda: not linked_to_anyone(ada), "the blocked link dropped")


async def test_what_was_declined_is_not_fetched_again_after_a_restart(tmp_path: Path) -> None:
    """Per-author counts start afresh at a restart: had Ben forgotten what he declined, he
    would fetch the 180 events again and store 20 more of them."""
    stranger = SigningKey.generate()
    flood = notes(stranger, 200)
    budget = AdmissionConfig(per_author_events=20)
    async with running(tmp_path / "ada", "Ada", fast()) as ada:
        await ada.ingest(raws(flood))
        port = ada._network.port if ada._network else 0
        config = fast([(HOST, port)], budget)
        async with running(tmp_path / "ben", "Ben", config) as ben:
            traffic = Traffic(ben)

            async def declined() -> bool:
                return traffic.counts["declined"] == 180

            await eventually(declined, "Ben declining 180 of the stranger's events")
        async with Node(Home(tmp_path / "ben"), config) as ben:
            assert len(await ben.declined_ids()) == 180
            await ben.start_network()
            traffic = Traffic(ben)
            await eventually(lambda: traffic.counts["sessions"] >= 2, "two reconciliation rounds")
            assert traffic.wanted.isdisjoint(event.id for event in flood)
            assert await stored_of(ben, stranger.public_key) == 20


async def test_an_unblock_forgets_what_was_declined(tmp_path: Path) -> None:
    blocked = SigningKey.generate()
    async with Node(Home(tmp_path / "me"), NodeConfig(watch=False)) as node:
        await node.create_identity("Me")
        await node.moderate(blocked.public_key, "block")
        result = await node.ingest(raws(notes(blocked, 5)), PEER)
        assert len(result.declined_unverified) == 5  # a blocked author's: not even verified
        assert result.duplicates == 0
        assert len(await node.declined_ids()) == 5
        await node.unmoderate(blocked.public_key, "block")
        assert await node.declined_ids() == []


async def test_what_was_declined_of_someone_familiar_since_is_fetched_again(
    tmp_path: Path,
) -> None:
    """A stranger who joins my circle, and one remembered as a peer (familiar from the next
    start), have their declined events left out of what a restart restores."""
    joiner, newcomer, other = (SigningKey.generate() for _ in range(3))
    config = NodeConfig(watch=False, admission=AdmissionConfig(per_peer_events=50))
    async with Node(Home(tmp_path / "me"), config) as node:
        await node.create_identity("Me")
        await node.circles.create("sql", name="SQL basics")
        for n, stranger in enumerate((joiner, newcomer, other)):
            await node.ingest(raws(notes(stranger, 60)), bytes([n]) * 32)  # 10 over, each
        assert len(await node.declined_ids()) == 30
        await node.remember_peer(newcomer.public_key, "New", "10.0.0.9", 7420)
        join = create_event(joiner, kind=kinds.JOIN, circle="sql", body={}, created_at=999)
        assert (await node.ingest([join.raw], PEER)).new == [join]
        assert len(await node.declined_ids()) == 20  # the joiner's are to be fetched again
    async with Node(Home(tmp_path / "me"), config) as node:
        declined = set(await node.declined_ids())
    assert declined == {event.id for event in notes(other, 60)[50:]}
