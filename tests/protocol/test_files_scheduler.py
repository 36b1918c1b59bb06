"""The download scheduler in an in-memory swarm with a fake clock (tests/protocol/files_sim.py)."""

from __future__ import annotations

import random

import pytest

from protocol.errors import LocalProtocolError
from protocol.files import Bitfield, ChunkRules, Scheduler, SchedulerConfig, layout_of
from tests.protocol.files_sim import SimPeer, Swarm

RULES = ChunkRules(min_chunk=1024, max_chunk=1024, max_chunks=1024)
DATA = random.Random(7).randbytes(200 * 1024 + 17)  # 201 chunks of 1 KiB
LAYOUT = layout_of(DATA, RULES)
ALL = set(range(LAYOUT.chunks))


def assembled(swarm: Swarm) -> bytes:
    return b"".join(swarm.received[index] for index in range(LAYOUT.chunks))


def test_four_sources_share_the_work_and_the_copy_is_exact() -> None:
    peers = [SimPeer(f"p{i}", set(ALL)) for i in range(4)]
    swarm = Swarm(LAYOUT, DATA, peers)
    swarm.run()
    assert assembled(swarm) == DATA
    assert all(peer.sent > 20 for peer in peers)
    assert not swarm.bans


def test_a_lying_peer_is_struck_then_banned_and_the_download_completes() -> None:
    liar = SimPeer("liar", set(ALL), lies=True, bandwidth=100e6)
    peers = [SimPeer("honest1", set(ALL)), SimPeer("honest2", set(ALL)), liar]
    swarm = Swarm(LAYOUT, DATA, peers, config=SchedulerConfig(strikes_to_ban=2))
    swarm.run()
    assert assembled(swarm) == DATA
    assert [ban.peer for ban in swarm.bans] == ["liar"]
    assert swarm.scheduler.banned == {"liar": "2 chunks that did not match their hash"}
    assert liar.sent <= 2 + SchedulerConfig().initial_window  # what it had been asked at once
    assert "liar" not in swarm.scheduler.peers()


def test_a_peer_that_leaves_mid_way_hands_its_requests_to_the_others() -> None:
    leaver = SimPeer("leaver", set(ALL), bandwidth=50e6, leaves_at=0.002)
    swarm = Swarm(LAYOUT, DATA, [leaver, SimPeer("stayer", set(ALL))])
    swarm.run()
    assert assembled(swarm) == DATA
    assert 0 < leaver.sent < LAYOUT.chunks


def test_a_silent_peer_times_out_and_its_requests_move() -> None:
    silent = SimPeer("silent", set(ALL), silent=True)
    config = SchedulerConfig(request_timeout=0.5)
    swarm = Swarm(LAYOUT, DATA, [silent, SimPeer("talker", set(ALL))], config=config)
    swarm.run()
    assert assembled(swarm) == DATA
    assert any(cancel.peer == "silent" for cancel in swarm.cancels)
    # Its window halves on each timeout: it is asked less and less.
    asked_silent = sum(1 for request in swarm.requests if request.peer == "silent")
    assert asked_silent < LAYOUT.chunks // 4


def test_partial_holders_are_asked_only_for_what_they_hold_rarest_first() -> None:
    halves = [SimPeer("front", set(range(120))), SimPeer("back", set(range(80, LAYOUT.chunks)))]
    swarm = Swarm(LAYOUT, DATA, halves, config=SchedulerConfig(random_first=0, max_window=4))
    swarm.run()  # SimPeer asserts a peer is never asked for a chunk it lacks
    assert assembled(swarm) == DATA
    # Rarest first: chunks only one peer holds go before those both hold.
    first = [request.index for request in swarm.requests[:8]]
    assert all(index < 80 or index >= 120 for index in first)


def test_a_whole_holder_is_kept_for_the_chunks_no_partial_holder_has() -> None:
    seed = SimPeer("seed", set(ALL))
    partial = SimPeer("partial", set(range(150)))
    swarm = Swarm(LAYOUT, DATA, [seed, partial], config=SchedulerConfig(random_first=0))
    swarm.run()
    assert assembled(swarm) == DATA
    # The seed sends the 51 chunks only it holds (and a few more in the end game).
    assert LAYOUT.chunks - 150 <= seed.sent <= LAYOUT.chunks - 150 + 20
    assert partial.sent >= 130


def test_in_order_mode_asks_from_the_start() -> None:
    config = SchedulerConfig(in_order=True, max_window=2, initial_window=1)
    swarm = Swarm(LAYOUT, DATA, [SimPeer("only", set(ALL))], config=config)
    swarm.run()
    assert [request.index for request in swarm.requests] == list(range(LAYOUT.chunks))


def test_the_end_game_asks_twice_and_cancels_the_loser() -> None:
    slow = SimPeer("slow", set(ALL), bandwidth=2e3)  # half a second per chunk
    fast = SimPeer("fast", set(ALL), bandwidth=10e6)
    config = SchedulerConfig(request_timeout=60.0)
    swarm = Swarm(LAYOUT, DATA, [slow, fast], config=config)
    swarm.run()
    assert assembled(swarm) == DATA
    assert any(cancel.peer == "slow" for cancel in swarm.cancels)
    # Without the end game the last of the slow peer's chunks would take seconds.
    assert swarm.now < 1.0


def test_bytes_in_flight_stay_under_the_cap() -> None:
    config = SchedulerConfig(max_bytes_in_flight=8 * 1024, max_window=64, initial_window=64)
    peers = [SimPeer(f"p{i}", set(ALL)) for i in range(3)]
    swarm = Swarm(LAYOUT, DATA, peers, config=config)
    swarm.run()
    assert assembled(swarm) == DATA
    assert 0 < swarm.max_in_flight <= 8 * 1024


def test_the_first_chunks_are_random_so_peers_starting_together_spread() -> None:
    firsts = set()
    for seed in range(5):
        swarm = Swarm(LAYOUT, DATA, [SimPeer("p", set(ALL))], seed=seed)
        swarm.run()
        firsts.add(swarm.requests[0].index)
    assert len(firsts) > 1


def test_chunks_already_held_are_never_asked_for() -> None:
    have = Bitfield(LAYOUT.chunks, range(0, LAYOUT.chunks, 2))
    scheduler = Scheduler(LAYOUT, have, rng=random.Random(1))
    scheduler.add_peer("p", Bitfield.full(LAYOUT.chunks), 0.0)
    asked = [action.index for action in scheduler.actions()]  # type: ignore[union-attr]
    assert asked
    assert all(index % 2 == 1 for index in asked)
    with pytest.raises(LocalProtocolError):
        scheduler.add_peer("q", Bitfield(3), 0.0)


def test_each_peer_window_follows_its_rate_times_its_round_trip() -> None:
    fast = SimPeer("fast", set(ALL), bandwidth=50e6, latency=0.02)
    slow = SimPeer("slow", set(ALL), bandwidth=20e3, latency=0.02)
    config = SchedulerConfig(max_window=1000, max_bytes_in_flight=10**9)
    swarm = Swarm(LAYOUT, DATA, [fast, slow], config=config)
    swarm.run()
    assert assembled(swarm) == DATA
    chunk = LAYOUT.chunk_size
    # fast: 4 x 50 MB/s x 20 ms is far above the cap; slow: 4 x 20 kB/s x 70 ms.
    assert swarm.scheduler.window("fast") == 1000 * chunk
    assert 2 * chunk <= swarm.scheduler.window("slow") <= 8 * chunk
    assert fast.sent > 10 * slow.sent


def test_a_window_stays_within_its_least_and_its_most() -> None:
    config = SchedulerConfig(initial_window=3, max_window=5, max_bytes_in_flight=10**9)
    fresh = Scheduler(LAYOUT, Bitfield(LAYOUT.chunks), rng=random.Random(1), config=config)
    fresh.add_peer("p", Bitfield.full(LAYOUT.chunks), 0.0)
    assert fresh.window("p") == 3 * LAYOUT.chunk_size  # nothing measured yet
    assert len(fresh.actions()) == 3
    peers = [SimPeer("p", set(ALL), bandwidth=1e9, latency=0.05)]
    swarm = Swarm(LAYOUT, DATA, peers, config=config)
    swarm.run()
    assert swarm.scheduler.window("p") == 5 * LAYOUT.chunk_size
    assert swarm.max_in_flight <= 6 * LAYOUT.chunk_size


def test_a_whole_holders_window_is_the_least_while_a_partial_holder_is_a_peer() -> None:
    config = SchedulerConfig(initial_window=2, max_window=1000, max_bytes_in_flight=10**9)
    seed = SimPeer("seed", set(ALL), bandwidth=50e6, latency=0.02)
    swarm = Swarm(LAYOUT, DATA, [seed], config=config)
    swarm.run()
    assert swarm.scheduler.window("seed") == 1000 * LAYOUT.chunk_size  # alone: its rate
    swarm.scheduler.add_peer("partial", Bitfield(LAYOUT.chunks, range(10)), swarm.now)
    assert swarm.scheduler.window("seed") == 2 * LAYOUT.chunk_size
    swarm.scheduler.remove_peer("partial", swarm.now)
    assert swarm.scheduler.window("seed") == 1000 * LAYOUT.chunk_size
