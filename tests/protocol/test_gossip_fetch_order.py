"""Fetch order: what peers with history offer is fetched before what strangers offer."""

from __future__ import annotations

from protocol import wire
from protocol.gossip import Verify
from protocol.gossip import config as c
from tests.protocol.test_gossip_engine import key, linked, make, note, sent

KNOWN, STRANGER = key(1), key(2)


def wanted(actions: list[object], peer: bytes) -> int:
    return sum(len(m.ids) for m in sent(actions, peer) if isinstance(m, wire.Want))


def test_a_strangers_offer_is_fetched_at_a_trickle_until_a_known_peers_is_done() -> None:
    engine = make(0)
    linked(engine, 1, 2)
    engine.set_familiar([KNOWN], 0.0)
    engine.actions()
    known = [note(n, author=1) for n in range(1000)]
    strangers = [note(n, author=2) for n in range(1000)]

    engine.receive(KNOWN, wire.encode(wire.Offer([e.id for e in known])), 0.1)
    engine.receive(STRANGER, wire.encode(wire.Offer([e.id for e in strangers])), 0.1)
    first = engine.actions()
    assert wanted(first, KNOWN) == 1000
    assert wanted(first, STRANGER) == c.STRANGER_WINDOW

    engine.receive(KNOWN, wire.encode(wire.Events([e.raw for e in known[:500]])), 0.2)
    engine.receive(KNOWN, wire.encode(wire.Events([e.raw for e in known[500:]])), 0.2)
    assert sum(isinstance(a, Verify) for a in engine.actions()) == 2
    engine.stored(KNOWN, known[:500], 0.3)
    assert wanted(engine.actions(), STRANGER) == 0  # the known peer is not done yet
    engine.stored(KNOWN, known[500:], 0.3)
    assert wanted(engine.actions(), STRANGER) == 1000 - c.STRANGER_WINDOW


def test_with_no_known_peer_fetching_a_stranger_gets_the_whole_window() -> None:
    engine = make(0)
    linked(engine, 1, 2)
    engine.set_familiar([KNOWN], 0.0)
    engine.actions()
    strangers = [note(n, author=2) for n in range(1000)]
    engine.receive(STRANGER, wire.encode(wire.Offer([e.id for e in strangers])), 0.1)
    assert wanted(engine.actions(), STRANGER) == 1000
