"""The serving budget and its round-robin: who answers next, and what a peer may make us send."""

from __future__ import annotations

import pytest

from peernode.errors import BadInput
from peernode.net.serving import ServingConfig, ServingScheduler

MIB = 1 << 20
A, B, C = b"a" * 32, b"b" * 32, b"c" * 32


def roomy(**changes: float) -> ServingConfig:
    values: dict[str, float] = {
        "peer_rate": 1e12,
        "peer_burst": 1e12,
        "total_rate": 1e12,
        "total_burst": 1e12,
    }
    values.update(changes)
    return ServingConfig(quantum=MIB, **values)  # type: ignore[arg-type]


def serve(
    scheduler: ServingScheduler, chunks: dict[bytes, int], now: float, turns: int
) -> dict[bytes, int]:
    """Give `turns` turns at `now` to peers that always have a chunk of chunks[peer] bytes."""
    sent = dict.fromkeys(chunks, 0)
    for peer in chunks:
        scheduler.want(peer, now)
    for _ in range(turns):
        peer, when = scheduler.next_turn(now)
        if peer is None:
            break
        assert when == now
        scheduler.spent(peer, chunks[peer], now, more=True)
        sent[peer] += chunks[peer]
    return sent


def test_peers_reading_large_and_small_chunks_get_the_same_bytes_per_round() -> None:
    """Deficit round-robin: turns by bytes, not by count (one read per turn would give the
    peer of large events 16 times the share)."""
    scheduler = ServingScheduler(roomy(), 0.0)
    sent = serve(scheduler, {A: MIB, B: 64 << 10}, 0.0, 17 * 20)
    assert abs(sent[A] - sent[B]) <= MIB
    assert sent[A] >= 19 * MIB


def test_a_chunk_larger_than_the_quantum_is_paid_for_in_later_rounds() -> None:
    scheduler = ServingScheduler(roomy(), 0.0)
    sent = serve(scheduler, {A: 3 * MIB, B: MIB}, 0.0, 40)
    assert abs(sent[A] - sent[B]) <= 3 * MIB
    assert sent[B] >= 9 * MIB


def test_one_peer_gets_its_burst_then_its_rate() -> None:
    config = roomy(peer_rate=2 * MIB, peer_burst=4 * MIB)
    scheduler = ServingScheduler(config, 0.0)
    assert serve(scheduler, {A: MIB}, 0.0, 100)[A] == 4 * MIB
    peer, when = scheduler.next_turn(0.0)
    assert peer is None
    assert when == pytest.approx(1 / (2 * MIB))  # one byte's worth past zero
    for second in range(1, 11):
        serve(scheduler, {A: MIB}, float(second), 100)
    assert scheduler.sent(A) <= 4 * MIB + 10 * 2 * MIB + MIB
    assert scheduler.sent(A) >= 4 * MIB + 10 * 2 * MIB - MIB


def test_a_peer_over_its_budget_does_not_hold_up_another() -> None:
    scheduler = ServingScheduler(roomy(peer_rate=MIB, peer_burst=2 * MIB), 0.0)
    serve(scheduler, {A: MIB}, 0.0, 100)
    scheduler.want(A, 0.0)
    sent = serve(scheduler, {B: MIB}, 0.0, 2)
    assert sent[B] == 2 * MIB


def test_the_total_budget_holds_for_all_peers_together() -> None:
    config = roomy(peer_rate=10 * MIB, peer_burst=10 * MIB, total_rate=MIB, total_burst=3 * MIB)
    scheduler = ServingScheduler(config, 0.0)
    sent = serve(scheduler, {A: MIB, B: MIB, C: MIB}, 0.0, 100)
    assert sum(sent.values()) == 3 * MIB
    assert set(sent.values()) == {MIB}  # one turn each, in a ring
    assert scheduler.next_turn(0.0) == (None, pytest.approx(1 / MIB))
    assert scheduler.next_turn(5.0)[0] is not None


def test_a_peer_that_leaves_is_no_longer_given_turns() -> None:
    scheduler = ServingScheduler(roomy(), 0.0)
    scheduler.want(A, 0.0)
    scheduler.want(B, 0.0)
    scheduler.leave(A)
    assert scheduler.next_turn(0.0) == (B, 0.0)
    scheduler.spent(B, MIB, 0.0)
    assert scheduler.next_turn(0.0) == (None, float("inf"))


@pytest.mark.parametrize(
    "changes", [{"peer_rate": 0.0}, {"total_rate": -1.0}, {"peer_burst": 1000.0}]
)
def test_a_budget_that_could_never_serve_is_refused(changes: dict[str, float]) -> None:
    with pytest.raises(BadInput):
        ServingConfig(**changes)  # type: ignore[arg-type]
