"""Hundreds of nodes in the simulator: bounds, loss, partitions, bulk catch-up, duplicate cost."""

from __future__ import annotations

from protocol import wire
from protocol.event import create_event, event_id
from protocol.gossip import GossipConfig
from tests.protocol.sim import BASE_MS, Net, Swarm


def test_200_nodes_with_loss_all_get_everything_within_the_link_bound() -> None:
    # Swarm._run raises BoundViolation the moment any node holds more than max_links links.
    swarm = Swarm(200, seed=21, net=Net(loss=0.10), trusted=True)
    swarm.run_for(20)
    posted = []
    for _ in range(20):
        posted.append(swarm.post(swarm.rng.randrange(200)).id)
        swarm.run_for(swarm.rng.uniform(0.5, 3.0))
    assert swarm.run_until_true(lambda: swarm.all_have(posted), timeout=120, step=5)
    assert swarm.max_links_seen <= 8
    assert all(len(n.engine.peers()) >= 1 for n in swarm.nodes)
    assert all(n.reverified == 0 for n in swarm.nodes)
    print(
        f"\n200 nodes, 10% loss: all delivered by t={swarm.now:.0f}s, "
        f"copies/delivery {swarm.copies_per_delivery():.2f}"
    )


def test_partition_then_heal_gives_everyone_the_union() -> None:
    swarm = Swarm(100, seed=22, net=Net(loss=0.02), trusted=True)
    swarm.run_for(20)
    left, right = list(range(0, 50)), list(range(50, 100))
    swarm.partition([left, right])
    swarm.run_for(5)
    assert all(swarm._reachable(a, b) for a, b in swarm.conns)
    posted = []
    for _ in range(8):
        posted.append(swarm.post(swarm.rng.choice(left)).id)
        posted.append(swarm.post(swarm.rng.choice(right)).id)
        swarm.run_for(2)
    swarm.run_for(10)
    for i, event in enumerate(posted):
        assert swarm.holders(event) == 50, i  # each side got its own, and only those
    swarm.heal()
    assert swarm.run_until_true(lambda: swarm.all_have(posted), timeout=300, step=5)
    assert all(len(n.store) == len(posted) for n in swarm.nodes)
    assert all(n.reverified == 0 for n in swarm.nodes)


def test_fresh_node_catches_up_5000_events_within_the_want_window() -> None:
    window = 500
    swarm = Swarm(1, seed=23, config=GossipConfig(want_window=window), trusted=True)
    holder = swarm.nodes[0]
    events = [
        create_event(
            holder.key,
            kind="peernode/note@1",
            circle="lobby",
            body={"text": f"history {i}"},
            created_at=BASE_MS - 10**7 + i,
        )
        for i in range(5000)
    ]
    swarm.preload(0, events)
    swarm.run_for(1)
    fresh = swarm.add_node()
    outstanding: set[bytes] = set()
    peak = 0

    def on_send(src: int, dst: int, data: bytes) -> None:
        nonlocal peak
        if src == fresh.idx and data[:2] == b"\x92\x03":
            msg = wire.decode(data)
            assert isinstance(msg, wire.Want)
            outstanding.update(msg.ids)
            peak = max(peak, len(outstanding))

    def on_deliver(src: int, dst: int, data: bytes) -> None:
        if dst == fresh.idx and data[:2] == b"\x92\x01":
            msg = wire.decode(data)
            assert isinstance(msg, wire.Events)
            outstanding.difference_update(event_id(raw) for raw in msg.raws)

    swarm.on_send, swarm.on_deliver = on_send, on_deliver
    assert swarm.run_until_true(lambda: len(fresh.store) == 5000, timeout=120, step=0.5)
    assert peak == window  # the window was used, and never exceeded
    view = fresh.engine.peer_view(holder.pub)
    assert view is not None
    assert view.wants_outstanding == 0
    assert view.wants_queued == 0
    assert swarm.run_until_true(lambda: view_in_sync(swarm, fresh.idx, holder.pub), timeout=30)


def view_in_sync(swarm: Swarm, idx: int, peer: bytes) -> bool:
    view = swarm.nodes[idx].engine.peer_view(peer)
    return view is not None and view.in_sync


def test_payload_copies_per_delivered_event_at_most_two_in_steady_state() -> None:
    swarm = Swarm(50, seed=24, trusted=True)
    swarm.run_for(20)
    for _ in range(15):  # warm-up: the trees prune themselves
        swarm.post(swarm.rng.randrange(50))
        swarm.run_for(1)
    swarm.run_for(5)
    swarm.reset_counters()
    posted = []
    for _ in range(40):
        posted.append(swarm.post(swarm.rng.randrange(50)).id)
        swarm.run_for(swarm.rng.uniform(0.5, 2.0))
    swarm.run_for(5)
    assert swarm.all_have(posted)
    ratio = swarm.copies_per_delivery()
    print(f"\n50 nodes steady state: {ratio:.3f} payload copies per delivered event")
    assert ratio <= 2.0


def test_reordering_and_heavy_loss_still_converge() -> None:
    swarm = Swarm(30, seed=25, net=Net(loss=0.25, reorder=True), trusted=True)
    swarm.run_for(20)
    posted = [swarm.post(i).id for i in range(0, 30, 3)]
    assert swarm.run_until_true(lambda: swarm.all_have(posted), timeout=600, step=10)


def test_crashed_nodes_are_replaced_in_the_active_views() -> None:
    swarm = Swarm(60, seed=26, trusted=True)
    swarm.run_for(20)
    dead = swarm.rng.sample(range(60), 15)
    for idx in dead:
        swarm.kill(idx)
    swarm.run_for(60)
    alive = [n for n in swarm.nodes if n.alive]
    target = swarm.config.target_links
    assert all(len(n.engine.peers()) >= target for n in alive)
    event = swarm.post(alive[0].idx)
    swarm.run_for(3)
    assert swarm.holders(event.id) == len(alive)
