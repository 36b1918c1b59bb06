"""Flood limits: pushes, messages and dials are budgeted per peer; links capped per host."""

from __future__ import annotations

import random

import pytest

from protocol import wire
from protocol.event import Event, create_event
from protocol.gossip import Close, Dial, GossipConfig, GossipEngine, Send, SendStored, Verify
from protocol.gossip import config as c
from protocol.gossip.budget import TokenBucket
from protocol.identity import SigningKey
from protocol.reconcile import MIN_MESSAGE_BYTES, ItemIndex
from protocol.reconcile.codec import decode, encode_varint
from tests.protocol.sim import BASE_MS, Swarm
from tests.protocol.test_gossip_engine import addr, answered, key, linked, make, sent

FLOODER = SigningKey.from_seed(b"\x42" * 32)


def notes(count: int, signer: SigningKey = FLOODER, start: int = 0) -> list[Event]:
    return [
        create_event(
            signer,
            kind="peernode/note@1",
            circle="lobby",
            body={"text": f"flood {start + i}"},
            created_at=BASE_MS + start + i,
        )
        for i in range(count)
    ]


def verified(actions: list[object]) -> int:
    return sum(len(a.raws) for a in actions if isinstance(a, Verify))


def closes(actions: list[object]) -> list[Close]:
    return [a for a in actions if isinstance(a, Close)]


# -- the bucket --------------------------------------------------------------------------


def test_token_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    bucket = TokenBucket(10.0, 5)
    assert bucket.take_up_to(0.0, 8) == 5
    assert not bucket.take(0.0)
    assert bucket.ready_at(0.0) == pytest.approx(0.1)
    assert bucket.take_up_to(0.3, 8) == 3
    assert bucket.whole(100.0) == 5  # never more than the burst
    assert bucket.whole(50.0) == 5  # a clock that goes back refills nothing, raises nothing
    bucket.take_up_to(100.0, 5)
    ready = bucket.ready_at(100.0)
    assert ready > 100.0
    assert bucket.take(ready)  # the token is there at the time it was promised
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(1.0, 0)


# -- pushes: throttled, then the flooder is closed and kept away --------------------------


def test_unasked_pushes_over_the_limit_are_dropped_unverified_then_the_peer_closed() -> None:
    engine = make(0)
    engine.set_familiar([key(1)], 0.0)  # even a peer we know, with the full burst
    linked(engine, 1)
    flood = notes(5 * c.PUSH_BURST)
    per_frame = 100
    accepted = 0
    closed: list[Close] = []
    t = 0.0
    # 1,000 events per second in frames of 100, as a flooding peer would send them.
    for start in range(0, len(flood), per_frame):
        frame = wire.encode(wire.Events([e.raw for e in flood[start : start + per_frame]]))
        engine.receive(key(1), frame, t)
        actions = engine.actions()
        accepted += verified(actions)
        closed += closes(actions)
        t += per_frame / 1000
        if closed:
            break
    assert [close.reason.split(":")[0] for close in closed] == ["flooding"]
    elapsed = t
    # Throttled first: no more than the burst plus what the rate allowed meanwhile.
    assert accepted <= c.PUSH_BURST + c.PUSH_RATE * elapsed + per_frame
    assert accepted >= c.PUSH_BURST
    # Closed once the dropped pushes passed the tolerance (forgiven at the push rate).
    dropped = start + per_frame - accepted
    assert dropped >= c.FLOOD_TOLERANCE
    # It is kept away: a new link from it is refused at once.
    engine.link_down(key(1), t)
    engine.actions()
    engine.link_up(key(1), t + 1, outbound=False, address=addr(1))
    assert Close(key(1), "misbehaved recently") in engine.actions()


def test_pushes_within_the_limit_are_all_verified() -> None:
    engine = make(0)
    engine.set_familiar([key(1)], 0.0)  # a key new to us gets a smaller burst at first
    linked(engine, 1)
    burst = notes(c.PUSH_BURST)
    frame = wire.encode(wire.Events([e.raw for e in burst[:400]]))
    engine.receive(key(1), frame, 1.0)
    for i in range(400, c.PUSH_BURST, 200):
        engine.receive(key(1), wire.encode(wire.Events([e.raw for e in burst[i : i + 200]])), 1.0)
    actions = engine.actions()
    assert verified(actions) == c.PUSH_BURST
    assert closes(actions) == []


def test_events_we_asked_for_are_not_limited() -> None:
    engine = make(0)
    linked(engine, 1)
    wanted = notes(3 * c.PUSH_BURST)
    ids = [e.id for e in wanted]
    for start in range(0, len(ids), wire.MAX_IDS):
        engine.receive(key(1), wire.encode(wire.Offer(ids[start : start + wire.MAX_IDS])), 0.0)
    total = 0
    asked = [i for m in sent(engine.actions(), key(1)) if isinstance(m, wire.Want) for i in m.ids]
    by_id = {e.id: e for e in wanted}
    rounds = 0
    while asked and rounds < 100:
        rounds += 1
        answer = [by_id[i] for i in asked]
        for start in range(0, len(answer), 200):
            chunk = [e.raw for e in answer[start : start + 200]]
            engine.receive(key(1), wire.encode(wire.Events(chunk)), 0.0)
        actions = engine.actions()
        assert closes(actions) == []
        batches = [a for a in actions if isinstance(a, Verify)]
        total += sum(len(b.raws) for b in batches)
        for batch in batches:
            raws = set(batch.raws)
            engine.stored(key(1), [e for e in answer if e.raw in raws], 0.0)
        asked = [
            i for m in sent(engine.actions(), key(1)) if isinstance(m, wire.Want) for i in m.ids
        ]
    assert total == len(wanted)


def test_too_many_messages_close_the_link() -> None:
    engine = make(0)
    linked(engine, 1, 2)
    ping = wire.encode(wire.Ping(1))
    for _ in range(c.MESSAGE_BURST + 1):
        engine.receive(key(1), ping, 5.0)
    actions = engine.actions()
    assert [a.peer for a in closes(actions)] == [key(1)]
    assert closes(actions)[0].reason.startswith("flooding")
    # The other peer is not disturbed.
    engine.receive(key(2), ping, 5.0)
    assert wire.Pong(1) in sent(engine.actions(), key(2))


class WorkClock:
    """A work clock on which each look costs `step` seconds: a search looks every
    STOP_EVERY items, so the time grows with the items it hashes. The engine looks once
    before each message, and that step is not work it charges (charged())."""

    def __init__(self, step: float = 0.001) -> None:
        self.t, self.step = 0.0, step

    def __call__(self) -> float:
        self.t += self.step
        return self.t

    def charged(self, messages: int) -> float:
        return self.t - messages * self.step


def one_fewer_than_me(session: int, count: int) -> bytes:
    """A Reconcile of a new session claiming one item fewer than we hold: each makes us
    search the whole range for the one it lacks (the "search" attack: a small message in,
    a busy core)."""
    payload = b"\x01" + encode_varint(64 * 1024) + b"\x00\x00\x01"
    payload += encode_varint(count - 1) + random.Random(session).randbytes(16)
    return wire.encode(wire.Reconcile(session, payload))


def search_index(count: int = 6000) -> ItemIndex:
    return ItemIndex((1_700_000_000_000 + i, random.Random(i).randbytes(32)) for i in range(count))


def test_the_time_a_peer_makes_us_spend_on_reconciliation_is_a_share_of_each_second() -> None:
    clock = WorkClock()
    engine = GossipEngine(
        self_key=key(0), index=search_index(), rng=random.Random(0), now=0.0, work_clock=clock
    )
    linked(engine, 1)
    seconds, per_second = 10, 40  # within RECONCILE_RATE: only the work budget bites
    replies = 0
    for tick in range(seconds * per_second):
        now = 1.0 + tick / per_second
        engine.handle_timer(now)
        engine.receive(key(1), one_fewer_than_me(2 * tick + 1, 6000), now)
        replies += sum(isinstance(m, wire.Reconcile) for m in sent(engine.actions(), key(1)))
    assert not closes(engine.actions())
    # Each search would cost 12 ms of this clock: 4.8 s in all, half of the 10 s. Over
    # budget, messages wait, and are answered without a search (splitting the range).
    work = clock.charged(replies)
    assert work <= c.RECONCILE_SHARE * (seconds + 1) + c.RECONCILE_SLICE + 2 * clock.step
    assert work > c.RECONCILE_SHARE * seconds * 0.9  # it did search, as much as allowed
    assert replies > seconds * per_second * 0.9  # and answered nearly every message


def test_a_search_stops_when_its_slice_of_time_is_spent_and_the_range_is_split() -> None:
    clock = WorkClock()
    engine = GossipEngine(
        self_key=key(0),
        index=search_index(),
        rng=random.Random(0),
        now=0.0,
        work_clock=clock,
        config=GossipConfig(reconcile_slice=0.002),
    )
    linked(engine, 1)
    engine.receive(key(1), one_fewer_than_me(1, 6000), 1.0)
    (reply,) = [m for m in sent(engine.actions(), key(1)) if isinstance(m, wire.Reconcile)]
    assert clock.t <= 0.002 + 3 * clock.step  # 6,000 items would take 12 looks
    assert len(decode(reply.payload, max_bytes=1 << 16).ranges) > 1  # split, not settled


def test_peers_within_their_share_are_answered_while_others_flood_us_with_searches() -> None:
    clock = WorkClock()
    engine = GossipEngine(
        self_key=key(0), index=search_index(), rng=random.Random(0), now=0.0, work_clock=clock
    )
    linked(engine, 1, 2, 3, 4, 5)
    engine.set_familiar([key(5)], 0.0)
    waited: list[float] = []
    asked: float | None = None
    replies = 0
    for tick in range(400):
        now = 1.0 + tick / 40
        engine.handle_timer(now)
        for attacker in (1, 2, 3, 4):
            engine.receive(key(attacker), one_fewer_than_me(2 * tick + 1, 6000), now)
        if tick % 40 == 0:  # a peer we know starts a session once a second
            engine.receive(key(5), one_fewer_than_me(2 * tick + 1, 6000), now)
            asked = now
        out = [(a.peer, wire.decode(a.data)) for a in engine.actions() if isinstance(a, Send)]
        replies += sum(isinstance(m, wire.Reconcile) for _, m in out)
        if asked is not None and any(p == key(5) and isinstance(m, wire.Reconcile) for p, m in out):
            waited.append(now - asked)
            asked = None
    work = clock.charged(replies)
    assert work <= c.RECONCILE_TOTAL_SHARE * 11 + 4 * (c.RECONCILE_SLICE + 2 * clock.step)
    assert len(waited) == 10
    assert max(waited) <= 0.5  # it goes before the strangers waiting


def i_hold_nothing(session: int) -> bytes:
    """A Reconcile of a new session claiming an empty set: we answer with the ids we hold,
    as many as the 64 KiB limit it advertises takes (a few bytes in, 63 KiB out)."""
    payload = b"\x01" + encode_varint(64 * 1024) + b"\x00\x00\x01" + encode_varint(0)
    payload += bytes(16)
    return wire.encode(wire.Reconcile(session, payload))


def test_reconciliation_replies_a_peer_asks_for_are_bounded_in_bytes() -> None:
    index = ItemIndex(
        (1_700_000_000_000 + i, random.Random(i).randbytes(32)) for i in range(20_000)
    )
    engine = make(0, index)
    linked(engine, 1, 2)
    seconds, per_second = 10, 40  # within RECONCILE_RATE
    replies = 0
    for tick in range(seconds * per_second):
        engine.receive(key(1), i_hold_nothing(2 * tick + 1), 1.0 + tick / per_second)
        replies += sum(
            len(m.payload) for m in sent(engine.actions(), key(1)) if isinstance(m, wire.Reconcile)
        )
    budget = c.RECONCILE_REPLY_BURST + c.RECONCILE_REPLY_RATE * seconds
    assert replies <= budget + seconds * per_second * (MIN_MESSAGE_BYTES + 64)
    assert replies > budget / 2  # it was answered, up to what was allowed
    # Unbounded, each reply would have been 63 KiB: 25 MB in all.
    engine.receive(key(2), i_hold_nothing(1), 11.0)  # another peer still gets a full reply
    (reply,) = [m for m in sent(engine.actions(), key(2)) if isinstance(m, wire.Reconcile)]
    assert len(reply.payload) > 60_000


def test_a_peer_starting_sessions_too_fast_is_closed_and_others_keep_theirs() -> None:
    engine = make(0, ItemIndex(notes_index(50)))
    linked(engine, 1, 2)
    for n in range(c.RECONCILE_BURST + 1):
        engine.receive(key(1), one_fewer_than_me(2 * n + 1, 50), 2.0)
    actions = engine.actions()
    assert [a.peer for a in closes(actions)] == [key(1)]
    assert "reconciliation" in closes(actions)[0].reason
    engine.receive(key(2), one_fewer_than_me(1, 50), 2.0)
    assert any(isinstance(m, wire.Reconcile) for m in sent(engine.actions(), key(2)))


def test_asking_again_and_again_for_the_same_events_is_answered_a_bounded_number_of_times() -> None:
    """The amplification attack: 1,000 large events asked for over and over. Each link gets
    an event at most SERVE_REPEATS times (an honest peer re-asks only after a timeout);
    other links, and new events, are served as before."""
    stored = notes(1000)
    engine = make(0, ItemIndex((e.created_at, e.id) for e in stored))
    linked(engine, 1, 2)
    want = wire.encode(wire.Want([e.id for e in stored[:1000]]))
    served = 0
    for _ in range(50):
        engine.receive(key(1), want, 3.0)
        served += sum(len(a.ids) for a in engine.actions() if isinstance(a, SendStored))
    assert served == c.SERVE_REPEATS * 1000  # 50,000 without the bound
    engine.receive(key(2), want, 3.0)
    assert [len(a.ids) for a in engine.actions() if isinstance(a, SendStored)] == [1000]
    fresh = notes(1, start=5000)[0]
    engine.publish([fresh], 4.0)
    engine.actions()
    engine.receive(key(1), wire.encode(wire.Want([fresh.id])), 5.0)
    assert answered(engine.actions(), key(1)) == [fresh.raw]


def announce(engine: GossipEngine, peer: int, ids: list[bytes], now: float) -> None:
    for start in range(0, len(ids), wire.MAX_IDS):
        engine.receive(key(peer), wire.encode(wire.IHave(ids[start : start + wire.MAX_IDS])), now)


def grafted(actions: list[object], peer: int) -> list[bytes]:
    return [i for m in sent(actions, key(peer)) if isinstance(m, wire.Graft) for i in m.ids]


def test_a_peer_filling_the_announcement_table_does_not_keep_an_honest_one_out() -> None:
    """Before, the table of announced ids was first come, first served: a peer announcing
    8,192 ids it never sends kept every honest IHave out (notes delayed up to 49 s)."""
    engine = make(0, ihave_timeout=1.0)
    linked(engine, 1, 2)
    rnd = random.Random(4)
    announce(engine, 1, [rnd.randbytes(32) for _ in range(c.MAX_MISSING)], 1.0)
    honest = notes(3, start=900)
    announce(engine, 2, [e.id for e in honest], 1.5)
    engine.handle_timer(2.6)
    assert grafted(engine.actions(), 2) == [e.id for e in honest]


def test_a_peer_that_announces_and_never_sends_loses_standing() -> None:
    engine = make(0, ihave_timeout=1.0)
    linked(engine, 1, 2)
    rnd = random.Random(5)
    now = 1.0
    for _ in range(c.LIAR_STRIKES + 1):  # each lie is grafted, then times out
        announce(engine, 1, [rnd.randbytes(32)], now)
        engine.handle_timer(now + 1.1)
        engine.handle_timer(now + 2.2)
        now += 3.0
    engine.actions()
    # Now its announcements are ignored: nothing of its is grafted any more ...
    announce(engine, 1, [rnd.randbytes(32)], now)
    engine.handle_timer(now + 1.1)
    assert grafted(engine.actions(), 1) == []
    # ... and an event it announced first is asked of the honest peer that has it too.
    event = notes(1, start=700)[0]
    announce(engine, 1, [event.id], now + 2.0)
    announce(engine, 2, [event.id], now + 2.0)
    engine.handle_timer(now + 3.1)
    assert grafted(engine.actions(), 2) == [event.id]


def inbound(engine: GossipEngine, i: int, now: float = 1.0) -> None:
    """Peer i dials us from its own host (10.0.0.i) and asks to be a neighbour."""
    engine.link_up(key(i), now, outbound=False, address=wire.PeerAddress(key(i), addr(i).host, 0))
    engine.receive(key(i), wire.encode(wire.Hello(1, f"n{i}", 7000, 0)), now)
    engine.receive(key(i), wire.encode(wire.Neighbor(True)), now)


def linked_keys(engine: GossipEngine) -> set[bytes]:
    return {view.key for view in engine.peers() if view.linked}


def test_strangers_cannot_take_the_slots_kept_for_peers_we_know() -> None:
    """The eclipse: strangers held all 8 slots, and a known peer that restarted could not
    get one back (honest notes 20 s late). Now strangers' inbound links leave 3 free while
    known peers are away, and a known peer finding every slot taken replaces a stranger."""
    engine = make(0)
    known = [key(i) for i in (20, 21, 22, 23)]
    engine.set_familiar(known, 0.5)
    for i in range(1, 9):
        inbound(engine, i)
    closed = closes(engine.actions())
    assert len(closed) == 3
    assert {a.reason for a in closed} == {"the remaining links are kept for peers we know"}
    for a in closed:
        engine.link_down(a.peer, 1.0)
    strangers = linked_keys(engine)
    assert len(strangers) == 5
    for i in (20, 21, 22):
        inbound(engine, i, 2.0)
    assert not closes(engine.actions())
    assert linked_keys(engine) == strangers | set(known[:3])
    # Every slot is taken; the fourth known peer replaces the least useful stranger.
    useful = sorted(strangers)[0]
    engine.receive(useful, wire.encode(wire.Events([notes(1, start=1)[0].raw])), 2.5)
    engine.stored(useful, [notes(1, start=1)[0]], 2.5)
    engine.actions()
    inbound(engine, 23, 3.0)
    evicted = closes(engine.actions())
    assert len(evicted) == 1
    assert evicted[0].peer in strangers - {useful}
    assert evicted[0].reason == "its slot went to a peer we know"
    assert key(23) in linked_keys(engine)


def test_with_no_peer_known_strangers_still_leave_room_for_our_own_dials() -> None:
    """A first meeting: no peer is familiar, so no slot is kept for one; strangers' inbound
    links still hold at most stranger_links slots, and the rest is for the links we dial."""
    engine = make(0)
    for i in range(1, 9):
        inbound(engine, i)
    closed = closes(engine.actions())
    assert len(linked_keys(engine)) == 5
    assert {a.reason for a in closed} == {"the remaining links are kept for peers we know"}
    other = make(0, stranger_links=8, fresh_headroom=0)
    other.set_familiar([key(1)], 0.5)
    for i in range(1, 9):
        inbound(other, i)
    assert not closes(other.actions())  # the one known peer came first


def notes_index(count: int) -> list[tuple[int, bytes]]:
    return [(event.created_at, event.id) for event in notes(count)]


# -- our own pushes stay within what peers accept -----------------------------------------


def test_a_big_publish_pushes_within_the_limit_and_reconciles_the_rest_soon() -> None:
    engine = make(0)
    linked(engine, 1)
    events = notes(2 * c.PUSH_BURST, signer=SigningKey.from_seed(b"\x00" * 32))
    engine.publish(events, 1.0)
    pushed = [
        raw for m in sent(engine.actions(), key(1)) if isinstance(m, wire.Events) for raw in m.raws
    ]
    assert len(pushed) == int(c.PUSH_BURST * c.SEND_SHARE)
    # The rest goes by reconciliation, started within RESYNC_DELAY.
    engine.handle_timer(1.0 + c.RESYNC_DELAY)
    assert any(isinstance(m, wire.Reconcile) for m in sent(engine.actions(), key(1)))


def test_a_bulk_publish_reaches_every_node_in_the_simulator_without_a_close() -> None:
    """An import of 3,000 notes on one node (faster than any peer accepts unasked) still
    reaches all three nodes, by push and then reconciliation, and nobody is called a flooder.
    """
    swarm = Swarm(3, seed=5, trusted=True)
    swarm.run_for(3)
    node = swarm.nodes[0]
    events = notes(3000, signer=node.key)
    for event in events:
        swarm.catalog[event.raw] = event
        node.store[event.id] = event.raw
    node.engine.publish(events, swarm.now)
    swarm._run(0)
    ids = [e.id for e in events]
    assert swarm.run_until_true(lambda: swarm.all_have(ids), timeout=120)
    assert all(not any("flooding" in r for _, r in n.closes) for n in swarm.nodes)


def test_a_flooder_is_closed_and_honest_posts_still_arrive_within_a_second() -> None:
    """Node 2 floods node 0 with 1,000 events/s; node 1's posts reach node 0 meanwhile."""
    swarm = Swarm(3, seed=9, trusted=True)
    swarm.run_for(3)
    flooder = swarm.nodes[2]
    flood = notes(8000, signer=flooder.key)
    for event in flood:
        swarm.catalog[event.raw] = event
    delays: list[float] = []
    for second in range(8):
        for tick in range(10):
            now = 3 + second + tick / 10
            swarm.run_until(now)
            if (0, 2) in swarm.conns:  # linked: the flooder sends 100 events every 0.1 s
                chunk = flood[(second * 10 + tick) * 100 : (second * 10 + tick + 1) * 100]
                swarm.inject(2, 0, wire.encode(wire.Events([e.raw for e in chunk])))
            if tick == 5:
                post = swarm.post(1)
                sent_at = swarm.now
                assert swarm.run_until_true(
                    lambda e=post: e.id in swarm.nodes[0].store, timeout=5, step=0.01
                )
                delays.append(swarm.now - sent_at)
    assert any(r.startswith("flooding") for _, r in swarm.nodes[0].closes)
    stored = sum(1 for e in flood if e.id in swarm.nodes[0].store)
    assert stored < len(flood) // 2
    assert max(delays) < 1.0


# -- dials and hosts --------------------------------------------------------------------


def test_dials_are_rate_limited_under_a_flood_of_addresses() -> None:
    engine = make(0, target_links=5)
    fake = [wire.PeerAddress(bytes([i]) * 32, "10.9.9.9", 1000 + i) for i in range(1, 200)]
    engine.add_candidates(fake, 0.0)
    dials = 0
    t = 0.0
    while t < 20.0:
        deadline = engine.get_timer()
        t = max(t + 0.01, deadline if deadline is not None else t + 0.1)
        engine.handle_timer(t)
        for action in engine.actions():
            if isinstance(action, Dial):
                dials += 1
                engine.dial_failed(action.address, t)  # refused at once
    assert dials <= c.DIAL_BURST + c.DIAL_RATE * 20.0 + 1
    assert dials >= 10  # it does keep trying, at the limited pace


def test_links_from_one_host_are_capped_and_others_keep_theirs() -> None:
    engine = make(0, max_links=8, target_links=5)
    linked(engine, 1)  # an honest peer on 10.0.0.1
    for i in range(10, 16):  # six identities on one laptop
        engine.link_up(
            key(i), 1.0, outbound=False, address=wire.PeerAddress(key(i), "10.0.0.66", 0)
        )
    actions = engine.actions()
    refused = {a.peer for a in closes(actions)}
    assert refused == {key(i) for i in range(12, 16)}
    assert all("links from 10.0.0.66" in a.reason for a in closes(actions))
    assert {v.key for v in engine.peers()} == {key(1), key(10), key(11)}


def test_loopback_has_no_per_host_cap() -> None:
    engine = GossipEngine(
        self_key=key(0),
        index=ItemIndex(),
        rng=random.Random(0),
        now=0.0,
        config=GossipConfig(max_links=8, target_links=5),
    )
    for i in range(1, 6):
        engine.link_up(
            key(i), 1.0, outbound=False, address=wire.PeerAddress(key(i), "127.0.0.1", 0)
        )
    assert closes(engine.actions()) == []
    assert not [a for a in engine.actions() if isinstance(a, Send)]
