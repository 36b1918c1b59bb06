"""Link slots an attacker cannot take: links that do not read or bring nothing give way,
keys new this run come last, and a penalty bars the host for new keys."""

from __future__ import annotations

from typing import Any

import pytest

from protocol import wire
from protocol.errors import LocalProtocolError
from protocol.gossip import Close, GossipConfig, GossipEngine
from protocol.gossip import config as c
from tests.protocol.test_gossip_engine import key, make
from tests.protocol.test_gossip_limits import closes, linked_keys, notes, verified

PROBATION = 60.0


def inbound(engine: GossipEngine, i: int, now: float, host: str | None = None) -> None:
    """Peer i dials us (from 10.0.0.i unless told) and asks to be a neighbour."""
    where = wire.PeerAddress(key(i), host or f"10.0.0.{i}", 0)
    engine.link_up(key(i), now, outbound=False, address=where)
    engine.receive(key(i), wire.encode(wire.Hello(1, f"n{i}", 7000, 0)), now)
    engine.receive(key(i), wire.encode(wire.Neighbor(True)), now)


def seen(engine: GossipEngine, *peers: int) -> None:
    """These peers were linked for a whole probation earlier in this run, then left."""
    for i in peers:
        inbound(engine, i, 0.0)
        engine.link_down(key(i), PROBATION)
    engine.actions()


def full(engine: GossipEngine, peers: range, now: float = 100.0) -> None:
    """Fill every slot with these peers' inbound links (no slot rule in the way)."""
    for i in peers:
        inbound(engine, i, now)
    assert not closes(engine.actions())
    assert engine.link_count() == engine.config.max_links


def roomy(**config: Any) -> GossipEngine:
    """An engine whose strangers may take every slot, so a test sees one rule at a time."""
    return make(0, **{"stranger_links": 8, "fresh_headroom": 0, **config})


def closed(engine: GossipEngine) -> dict[bytes, str]:
    return {a.peer: a.reason for a in closes(engine.actions())}


# -- links that do not read ----------------------------------------------------------------


def stall(engine: GossipEngine, i: int, since: float, now: float, drained: int = 0) -> None:
    """Bytes wait on peer i's link from `since` to `now`, and `drained` of them are taken."""
    engine.link_sending(key(i), True, 0, since)
    engine.link_sending(key(i), True, drained, now)


def test_a_link_that_does_not_read_gives_its_slot_to_a_link_that_wants_one() -> None:
    engine = roomy()
    seen(engine, 30)
    full(engine, range(1, 9))
    stall(engine, 3, 107.0, 110.0)  # bytes waiting 3 s: not yet past the grace
    inbound(engine, 30, 110.0)
    assert closed(engine) == {key(30): "link limit reached"}
    engine.link_down(key(30), 110.0)
    engine.link_sending(key(3), True, 1000, 113.0)  # a trickle is not reading: 6 s now
    stall(engine, 4, 107.0, 113.0, drained=1 << 20)  # bytes wait, and it takes them
    stall(engine, 5, 107.0, 113.0)
    engine.link_sending(key(5), False, 0, 113.0)  # it read them all in the end
    inbound(engine, 30, 113.0)
    assert closed(engine) == {key(3): "it does not read: its slot went to a new link"}
    assert key(30) in linked_keys(engine)


def test_a_link_that_does_not_read_for_long_is_closed_even_with_slots_free() -> None:
    engine = make(0)
    inbound(engine, 1, 0.0)
    engine.actions()
    stall(engine, 1, 0.0, 29.0)
    assert not closes(engine.actions())
    engine.link_sending(key(1), True, 0, 31.0)
    assert closed(engine) == {key(1): "it does not read: its queue barely moved for 31 s"}


def test_a_familiar_peer_takes_the_slot_of_a_link_that_does_not_read_first() -> None:
    engine = roomy()
    engine.set_familiar([key(20), key(5)], 0.0)
    full(engine, range(1, 9))
    stall(engine, 5, 100.0, 110.0)  # familiar, and not reading
    stall(engine, 6, 103.0, 110.0)  # a stranger, not reading for less long
    inbound(engine, 20, 110.0)
    assert closed(engine) == {key(6): "it does not read: its slot went to a new link"}


# -- links that bring nothing ---------------------------------------------------------------


def useful(engine: GossipEngine, i: int, now: float) -> None:
    """Peer i pushes us one event we did not have."""
    event = notes(1, start=int(now * 1000) + i)[0]
    engine.receive(key(i), wire.encode(wire.Events([event.raw])), now)
    engine.stored(key(i), [event], now)
    engine.actions()


def test_a_stranger_that_brought_nothing_for_the_window_gives_way_to_a_known_key() -> None:
    engine = roomy()
    seen(engine, 30)
    full(engine, range(1, 9), now=100.0)
    for i in range(1, 9):
        if i != 4:
            useful(engine, i, 150.0)
    inbound(engine, 30, 200.0)  # peer 4: nothing new for 100 s, under the 120 s window
    assert closed(engine) == {key(30): "link limit reached"}
    engine.link_down(key(30), 200.0)
    inbound(engine, 30, 221.0)
    reason = "nothing new from it for 120 s: its slot went to a new link"
    assert closed(engine) == {key(4): reason}


def test_a_familiar_peer_replaces_an_idle_stranger_before_a_useful_one() -> None:
    engine = roomy(reserved_links=0)
    engine.set_familiar([key(20)], 0.0)
    full(engine, range(1, 9), now=100.0)
    for i in range(1, 9):
        useful(engine, i, 100.0 + i)  # peer 1 the longest ago
    useful(engine, 1, 238.0)
    useful(engine, 1, 239.0)  # the most useful of all, and the only one not idle
    inbound(engine, 20, 240.0)
    evicted = closed(engine)
    assert list(evicted) == [key(2)]  # idle the longest


# -- keys new this run ------------------------------------------------------------------------


def test_a_fresh_key_waits_behind_known_ones_for_the_last_free_slots() -> None:
    engine = make(0, stranger_links=8)
    seen(engine, 30)
    for i in range(1, 7):
        inbound(engine, i, 100.0)
    assert not closes(engine.actions())
    inbound(engine, 7, 100.0)  # fresh: the last 2 slots are not for it
    assert closed(engine) == {key(7): "new peers wait while few slots are free"}
    engine.link_down(key(7), 100.0)
    inbound(engine, 30, 100.0)  # known from earlier in this run: it may take one
    assert not closes(engine.actions())
    assert key(30) in linked_keys(engine)


def test_a_fresh_key_never_takes_anyones_slot() -> None:
    engine = roomy()
    full(engine, range(1, 9))
    stall(engine, 1, 100.0, 110.0)
    inbound(engine, 40, 110.0)  # fresh, and a link that does not read is there
    assert closed(engine) == {key(40): "new peers wait while few slots are free"}


def test_a_fresh_key_pushes_a_small_burst_until_its_probation_ends() -> None:
    engine = make(0)
    inbound(engine, 1, 0.0)
    engine.actions()
    flood = notes(2 * c.PUSH_BURST)
    frame = wire.encode(wire.Events([e.raw for e in flood[:200]]))
    engine.receive(key(1), frame, 1.0)
    assert verified(engine.actions()) == 100  # probation_push_burst
    engine.receive(key(1), wire.encode(wire.Events([e.raw for e in flood[200:400]])), 70.0)
    # Probation over: its bucket may hold the full burst, refilled at the usual rate.
    assert verified(engine.actions()) == 200
    engine.receive(key(1), wire.encode(wire.Events([e.raw for e in flood[400:1400]])), 200.0)
    assert verified(engine.actions()) == c.PUSH_BURST


def test_a_penalty_bars_the_host_for_fresh_keys_but_not_for_known_ones() -> None:
    engine = make(0)
    seen(engine, 31)
    inbound(engine, 1, 100.0, host="10.0.0.66")
    engine.actions()
    engine.receive(key(1), b"\xc1", 100.0)  # malformed: closed and penalized
    assert closed(engine)[key(1)].startswith("protocol error")
    engine.link_down(key(1), 100.0)
    inbound(engine, 2, 101.0, host="10.0.0.66")  # a fresh key minted on the same laptop
    assert closed(engine) == {key(2): "misbehaved recently"}
    engine.link_down(key(2), 101.0)
    inbound(engine, 31, 102.0, host="10.0.0.66")  # a key with standing from there
    assert not closes(engine.actions())
    inbound(engine, 3, 100.0 + c.PENALTY + 1, host="10.0.0.66")  # the bar has lapsed
    assert not closes(engine.actions())


def test_a_key_past_probation_is_known_until_it_misbehaves() -> None:
    engine = make(0, stranger_links=8)
    inbound(engine, 30, 0.0)
    useful(engine, 30, PROBATION + 1)  # still linked when its probation ended: seen
    for i in range(1, 6):
        inbound(engine, i, 100.0)
    engine.link_down(key(30), 100.0)
    inbound(engine, 6, 100.0)
    inbound(engine, 30, 100.0)  # the 7th link: a known key may take it
    assert not closes(engine.actions())
    engine.receive(key(30), b"\xc1", 101.0)  # then it breaks the protocol
    engine.link_down(key(30), 101.0)
    engine.actions()
    inbound(engine, 30, 102.0 + c.PENALTY)  # penalty over, but its standing is gone
    assert closed(engine) == {key(30): "new peers wait while few slots are free"}


def test_a_penalty_on_loopback_bars_no_other_key() -> None:
    engine = make(0)
    inbound(engine, 1, 100.0, host="127.0.0.1")
    engine.receive(key(1), b"\xc1", 100.0)
    engine.link_down(key(1), 100.0)
    engine.actions()
    inbound(engine, 2, 101.0, host="127.0.0.1")
    assert not closes(engine.actions())


# -- strangers in total ---------------------------------------------------------------------


def test_strangers_hold_at_most_their_share_even_when_every_familiar_peer_is_linked() -> None:
    engine = make(0, fresh_headroom=0)
    engine.set_familiar([key(20)], 0.0)
    inbound(engine, 20, 1.0)
    for i in range(1, 8):
        inbound(engine, i, 1.0)
    refused = closed(engine)
    assert set(refused.values()) == {"the remaining links are kept for peers we know"}
    assert len(refused) == 2
    assert len(linked_keys(engine)) == 6  # 5 strangers and the familiar peer: 2 slots left


def test_slot_settings_are_checked() -> None:
    with pytest.raises(LocalProtocolError, match="stall_progress_bytes"):
        GossipConfig(stall_progress_bytes=0)
    with pytest.raises(LocalProtocolError, match="stall_grace"):
        GossipConfig(stall_grace=10.0, stall_limit=5.0)
    with pytest.raises(LocalProtocolError, match="probation_push_burst"):
        GossipConfig(probation_push_burst=c.PUSH_BURST + 1)
    with pytest.raises(LocalProtocolError, match="stranger_links"):
        GossipConfig(stranger_links=0)
    assert Close  # the actions these tests read
