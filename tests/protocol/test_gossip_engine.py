"""GossipEngine driven by hand: bounds, dedup before verification, faults end in Close."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from protocol import wire
from protocol.errors import LocalProtocolError
from protocol.event import Event, create_event
from protocol.gossip import (
    Close,
    Dial,
    GossipConfig,
    GossipEngine,
    Send,
    SendStored,
    Verify,
)
from protocol.gossip import config as c
from protocol.identity import SigningKey
from protocol.reconcile import ItemIndex


def key(i: int) -> bytes:
    return SigningKey.from_seed(bytes([i]) * 32).public_key


def addr(i: int) -> wire.PeerAddress:
    return wire.PeerAddress(key(i), f"10.0.0.{i}", 7000)


def make(i: int = 0, index: ItemIndex | None = None, **config: Any) -> GossipEngine:
    return GossipEngine(
        self_key=key(i),
        index=index if index is not None else ItemIndex(),
        rng=random.Random(i),
        now=0.0,
        config=GossipConfig(**config),
        self_address=addr(i),
        name=f"n{i}",
    )


def note(n: int, author: int = 99) -> Event:
    signer = SigningKey.from_seed(bytes([author]) * 32)
    return create_event(
        signer, kind="peernode/note@1", circle="lobby", body={"text": f"t{n}"}, created_at=n
    )


def sent(actions: Sequence[object], peer: bytes | None = None) -> list[wire.Message]:
    return [
        wire.decode(a.data)
        for a in actions
        if isinstance(a, Send) and (peer is None or a.peer == peer)
    ]


def answered(actions: Sequence[object], peer: bytes) -> list[bytes]:
    """The raw events answered from memory to `peer` (answers go the bulk way)."""
    return [raw for a in actions if isinstance(a, SendStored) and a.peer == peer for raw in a.raws]


def linked(engine: GossipEngine, *peers: int) -> None:
    """Accept inbound links from these peers (they ask with Neighbor)."""
    for i in peers:
        engine.link_up(key(i), 0.0, outbound=False, address=addr(i))
        engine.receive(key(i), wire.encode(wire.Hello(1, f"n{i}", 7000, 0)), 0.0)
        engine.receive(key(i), wire.encode(wire.Neighbor(True)), 0.0)
    engine.actions()


def test_link_to_self_is_closed() -> None:
    engine = make(0)
    engine.link_up(key(0), 0.0, outbound=False)
    assert [a for a in engine.actions() if isinstance(a, Close)] == [
        Close(key(0), "link to ourselves")
    ]


def test_never_more_links_than_max_links() -> None:
    engine = make(0, max_links=3, target_links=2, fresh_headroom=0)
    for i in range(1, 6):
        engine.link_up(key(i), 0.0, outbound=False, address=addr(i))
        assert engine.link_count() <= 3
    actions = engine.actions()
    closed = [a.peer for a in actions if isinstance(a, Close)]
    assert closed == [key(4), key(5)]
    # The refused peers first get addresses to try and a Disconnect.
    refused = sent(actions, key(4))
    assert isinstance(refused[-2], wire.ShuffleReply)
    assert refused[-1] == wire.Disconnect()


def test_low_priority_request_keeps_a_slot_free() -> None:
    engine = make(0, max_links=3, target_links=2, fresh_headroom=0)
    linked(engine, 1, 2)
    engine.link_up(key(3), 0.0, outbound=False, address=addr(3))
    engine.receive(key(3), wire.encode(wire.Neighbor(False)), 0.0)
    actions = engine.actions()
    assert wire.NeighborReply(False) in sent(actions, key(3))
    assert Close(key(3), "active view full") in actions


def test_dials_candidates_up_to_target() -> None:
    engine = make(0, target_links=3)
    engine.add_candidates([addr(i) for i in range(1, 10)] + [addr(0)], 0.0)
    engine.handle_timer(0.0)
    dials = [a for a in engine.actions() if isinstance(a, Dial)]
    assert len(dials) == c.MAX_DIALS
    assert all(d.address.key != key(0) for d in dials)
    engine.dial_failed(dials[0].address, 0.1)
    engine.handle_timer(0.1)
    again = [a for a in engine.actions() if isinstance(a, Dial)]
    assert len(again) == 1
    assert again[0].address != dials[0].address


def test_a_fresh_announcement_ends_the_backoff_of_a_peer_that_was_down() -> None:
    engine = make(0, target_links=1)
    peer = addr(1)
    now = 0.0
    for failures in range(1, 6):  # down for a while: each dial fails, each wait longer
        engine.add_candidates([peer], now)
        engine.handle_timer(now)
        assert Dial(peer) in engine.actions()
        engine.dial_failed(peer, now)
        now += c.BACKOFF_BASE**failures
    now -= c.BACKOFF_BASE**5 - 0.1  # just after the fifth failure, 32 s of backoff ahead
    waited = c.BACKOFF_BASE**5 - 0.1
    engine.add_candidates([peer], now)  # heard again, but not announced: the backoff holds
    engine.handle_timer(now)
    assert Dial(peer) not in engine.actions()
    engine.announced(peer, now)  # it announced itself: it is back
    engine.handle_timer(now)
    assert Dial(peer) in engine.actions(), f"dialled at once, not {waited:g} s later"


def test_manual_peer_without_key_is_dialed_and_learned() -> None:
    engine = make(0)
    manual = wire.PeerAddress(b"", "10.0.0.7", 7000)
    engine.add_candidates([manual], 0.0)
    engine.handle_timer(0.0)
    assert Dial(manual) in engine.actions()
    engine.link_up(key(7), 0.5, outbound=True, address=manual)
    first = sent(engine.actions(), key(7))
    assert isinstance(first[0], wire.Hello)
    assert first[0].listen_port == 7000
    assert first[1] == wire.Join()  # it knows too few addresses to do without the contact
    engine.receive(key(7), wire.encode(wire.NeighborReply(True)), 0.6)
    view = engine.peer_view(key(7))
    assert view is not None
    assert view.linked
    assert view.outbound
    assert view.address == addr(7)
    # Being linked, the manual address is not dialed again.
    engine.handle_timer(10.0)
    assert not [a for a in engine.actions() if isinstance(a, Dial)]


def test_duplicates_are_dropped_before_verification() -> None:
    engine = make(0)
    linked(engine, 1, 2)
    event = note(1)
    engine.receive(key(1), wire.encode(wire.Events([event.raw, event.raw])), 1.0)
    assert engine.actions() == [Verify(key(1), [event.raw])]
    # Still being verified: a copy from another peer is not verified again.
    engine.receive(key(2), wire.encode(wire.Events([event.raw])), 1.1)
    actions = engine.actions()
    assert not [a for a in actions if isinstance(a, Verify)]
    assert sent(actions, key(2)) == [wire.Prune()]  # a redundant tree edge
    engine.stored(key(1), [event], 1.2)
    assert event.id in engine._s.index
    pushed = sent(engine.actions(), key(2))
    assert pushed == [wire.IHave([event.id])]  # pruned: it only hears an announcement
    engine.receive(key(2), wire.encode(wire.Events([event.raw])), 2.0)
    assert not [a for a in engine.actions() if isinstance(a, Verify)]


def test_publish_pushes_to_eager_peers_and_serves_want() -> None:
    engine = make(0)
    linked(engine, 1)
    event = note(2)
    engine.publish([event], 1.0)
    assert sent(engine.actions(), key(1)) == [wire.Events([event.raw])]
    engine.receive(key(1), wire.encode(wire.Want([event.id, bytes(32)])), 2.0)
    assert engine.actions() == [SendStored(key(1), [], [event.raw])]


def test_an_answer_of_many_large_cached_events_is_one_bulk_action() -> None:
    """Served straight into the link's queue, 600 large events filled it and closed the
    link of an honest peer that asked for them as too slow."""
    signer = SigningKey.from_seed(bytes([99]) * 32)
    big = [
        create_event(
            signer,
            kind="peernode/note@1",
            circle="lobby",
            body={"text": "x" * 30_000 + str(n)},
            created_at=n,
        )
        for n in range(600)
    ]
    engine = make(0)
    linked(engine, 1)
    engine.publish(big, 1.0)
    engine.actions()
    engine.receive(key(1), wire.encode(wire.Want([e.id for e in big])), 2.0)
    actions = engine.actions()
    assert sent(actions, key(1)) == []
    assert actions == [SendStored(key(1), [], [e.raw for e in big])]


def test_a_push_of_many_large_events_goes_the_bulk_way() -> None:
    """An import of 600 large notes pushed as 600 urgent frames filled the link's queue of
    512 and closed the peer as too slow; a push of a few goes as before."""
    signer = SigningKey.from_seed(bytes([98]) * 32)
    big = [
        create_event(
            signer,
            kind="peernode/note@1",
            circle="lobby",
            body={"text": "x" * 32_700 + str(n)},
            created_at=n,
        )
        for n in range(600)
    ]
    engine = make(0)
    linked(engine, 1)
    engine.publish(big[:2], 1.0)
    assert sent(engine.actions(), key(1)) == [wire.Events([e.raw]) for e in big[:2]]
    engine.publish(big[2:], 2.0)
    actions = engine.actions()
    assert sent(actions, key(1)) == []
    assert actions == [SendStored(key(1), [], [e.raw for e in big[2:]], push=True)]


def test_want_for_uncached_events_goes_to_the_store() -> None:
    old = [note(i) for i in range(3)]
    index = ItemIndex((e.created_at, e.id) for e in old)
    engine = make(0, index=index)
    linked(engine, 1)
    engine.receive(key(1), wire.encode(wire.Want([e.id for e in old])), 1.0)
    assert engine.actions() == [SendStored(key(1), [e.id for e in old])]


def test_ihave_then_graft_after_timeout() -> None:
    engine = make(0, ihave_timeout=1.0)
    linked(engine, 1)
    event = note(3)
    engine.receive(key(1), wire.encode(wire.IHave([event.id])), 5.0)
    deadline = engine.get_timer()
    assert deadline is not None
    assert deadline <= 6.0
    engine.handle_timer(6.0)
    assert wire.Graft([event.id]) in sent(engine.actions(), key(1))
    engine.receive(key(1), wire.encode(wire.Events([event.raw])), 6.1)
    assert engine.actions() == [Verify(key(1), [event.raw])]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xc1", "protocol error: "),
        (wire.encode(wire.Hello(2, "", None, 0)), "unsupported protocol version 2"),
        (wire.encode(wire.NeighborReply(True)), "NeighborReply on a link we did not dial"),
        # odd session: started by the dialer, which peer 1 is
        (wire.encode(wire.Reconcile(3, b"\xff\xff")), "reconciliation"),
    ],
)
def test_remote_faults_close_the_link_and_never_raise(data: bytes, reason: str) -> None:
    engine = make(0)
    linked(engine, 1, 2)
    engine.receive(key(1), data, 1.0)
    closes = [a for a in engine.actions() if isinstance(a, Close)]
    assert len(closes) == 1
    assert closes[0].peer == key(1)
    assert reason in closes[0].reason
    engine.receive(key(1), wire.encode(wire.Want([bytes(32)])), 1.1)  # closing: ignored
    assert engine.actions() == []
    engine.link_down(key(1), 1.2)
    assert [v.key for v in engine.peers()] == [key(2)]


def test_messages_from_unknown_peers_are_ignored() -> None:
    engine = make(0)
    engine.receive(key(5), b"\xc1", 0.0)
    engine.receive(key(5), wire.encode(wire.Events([note(1).raw])), 0.0)
    assert [a for a in engine.actions() if not isinstance(a, Dial)] == []


def test_peer_sending_invalid_events_is_closed() -> None:
    engine = make(0)
    linked(engine, 1)
    for n in range(c.MAX_REJECTED):
        engine.receive(key(1), wire.encode(wire.Events([note(100 + n).raw])), 1.0)
        engine.stored(key(1), [], 1.0)  # the batch is answered: its one event was bad
        engine.rejected(key(1), 1, 1.0)
    closes = [a for a in engine.actions() if isinstance(a, Close)]
    assert closes == [Close(key(1), f"sent {c.MAX_REJECTED} invalid events")]
    assert not engine._s.pending  # the rejected ids are forgotten: honest copies still welcome


def test_a_rejected_batch_leaves_the_next_batch_of_the_same_peer_pending() -> None:
    """Two Verify batches from one peer in flight; the first had a bad event. Reporting it
    must not forget ids of the second, still being verified."""
    engine = make(0)
    linked(engine, 1)
    first, second = note(1), [note(2), note(3)]
    engine.receive(key(1), wire.encode(wire.Events([first.raw])), 1.0)
    engine.receive(key(1), wire.encode(wire.Events([e.raw for e in second])), 1.0)
    engine.actions()
    engine.stored(key(1), [], 1.1)
    engine.rejected(key(1), 1, 1.1)
    assert set(engine._s.pending) == {e.id for e in second}
    engine.stored(key(1), second, 1.2)
    assert not engine._s.pending


def test_timer_is_the_earliest_deadline() -> None:
    engine = make(0, shuffle_interval=30.0)
    assert engine.get_timer() == 0.0  # the first membership check
    engine.handle_timer(0.0)
    deadline = engine.get_timer()
    assert deadline is not None
    assert 0.0 < deadline <= 30.0 * 1.25
    engine.handle_timer(deadline - 0.001)
    assert engine.get_timer() == deadline


def test_local_misuse_raises() -> None:
    with pytest.raises(LocalProtocolError):
        GossipEngine(self_key=b"x", index=ItemIndex(), rng=random.Random(), now=0.0)
    with pytest.raises(LocalProtocolError):
        GossipConfig(target_links=9, max_links=8)
    with pytest.raises(LocalProtocolError):
        make(0).link_up(b"short", 0.0, outbound=True)


def test_gossip_sources_are_sans_io() -> None:
    root = Path(__file__).resolve().parents[2] / "protocol"
    forbidden = re.compile(
        r"^\s*(import|from)\s+(asyncio|socket|sqlite3|aiohttp|zeroconf|textual|time)\b"
        r"|\brandom\.(random|randint|choice|sample|shuffle|uniform|randrange)\(",
        re.M,
    )
    for path in [root / "wire.py", *sorted((root / "gossip").glob("*.py"))]:
        assert not forbidden.search(path.read_text()), path.name


def test_inbound_port_comes_from_hello_and_bad_addresses_stay_local() -> None:
    engine = make(0)
    engine.link_up(key(1), 0.0, outbound=False, address=wire.PeerAddress(key(1), "10.0.0.1", 0))
    view = engine.peer_view(key(1))
    assert view is not None
    assert view.address is None  # port 0: not dialable yet
    engine.receive(key(1), wire.encode(wire.Hello(1, "n1", 7123, 0)), 0.1)
    view = engine.peer_view(key(1))
    assert view is not None
    assert view.address == wire.PeerAddress(key(1), "10.0.0.1", 7123)
    engine.add_candidates([wire.PeerAddress(key(2), "bad host", 1), addr(3)], 0.2)
    assert engine.passive_view() == [addr(3)]
    with pytest.raises(LocalProtocolError):
        wire.encode(wire.ShuffleReply([wire.PeerAddress(key(2), "10.0.0.2", 0)]))


def test_stored_answers_the_whole_verify_batch() -> None:
    engine = make(0)
    linked(engine, 1)
    good, dup = note(1), note(2)
    engine.receive(key(1), wire.encode(wire.Events([good.raw, dup.raw])), 1.0)
    engine.actions()
    engine.stored(key(1), [good], 1.1)  # dup was already in the shell's store: not reported
    assert not engine._s.pending
    engine.receive(key(1), wire.encode(wire.Events([note(3).raw])), 1.2)
    engine.stored(key(1), [], 1.3)  # nothing new at all: answers the oldest open batch
    assert not engine._s.pending


def test_after_the_store_refused_events_every_linked_peer_is_reconciled_soon() -> None:
    engine = make(0)
    linked(engine, 1, 2)
    engine.handle_timer(10.0)
    assert not [m for m in sent(engine.actions()) if isinstance(m, wire.Reconcile)]
    engine.resync_all(10.0)
    engine.handle_timer(10.0 + c.RESYNC_DELAY)
    actions = engine.actions()
    for peer in (1, 2):
        assert any(isinstance(m, wire.Reconcile) for m in sent(actions, key(peer))), peer


def test_declined_events_are_not_fetched_again_nor_held_against_the_sender() -> None:
    engine = make(0)
    linked(engine, 1, 2)
    declined = [note(200 + n) for n in range(c.MAX_REJECTED + 2)]
    engine.receive(key(1), wire.encode(wire.Events([e.raw for e in declined])), 1.0)
    engine.actions()
    engine.stored(key(1), [], 1.1, declined=[e.id for e in declined])
    assert not [a for a in engine.actions() if isinstance(a, Close)]  # not invalid: no penalty
    ids = [e.id for e in declined]

    engine.receive(key(2), wire.encode(wire.Offer(ids)), 2.0)
    engine.receive(key(2), wire.encode(wire.IHave(ids)), 2.0)
    engine.receive(key(2), wire.encode(wire.Events([declined[0].raw])), 2.0)
    actions = engine.actions()
    assert not [m for m in sent(actions, key(2)) if isinstance(m, wire.Want | wire.Prune)]
    assert not [a for a in actions if isinstance(a, Verify)]
    engine.handle_timer(10.0)  # no Graft for the announced ids either
    assert not [m for m in sent(engine.actions()) if isinstance(m, wire.Graft)]
    engine.receive(key(2), wire.encode(wire.Want(ids)), 11.0)  # never served: not held
    assert not sent(engine.actions(), key(2))

    engine.forget_declined()  # policy changed: they may be fetched now
    engine.receive(key(2), wire.encode(wire.Offer(ids)), 12.0)
    assert [m for m in sent(engine.actions(), key(2)) if isinstance(m, wire.Want)]


def wanted(actions: Sequence[object], peer: bytes) -> list[bytes]:
    return [i for m in sent(actions, peer) if isinstance(m, wire.Want) for i in m.ids]


def test_a_peer_whose_backlog_was_all_declined_is_fetched_from_in_a_trickle() -> None:
    engine = make(0)
    linked(engine, 1)
    first = [note(300 + n) for n in range(10)]
    engine.receive(key(1), wire.encode(wire.Offer([e.id for e in first])), 1.0)
    assert len(wanted(engine.actions(), key(1))) == 10
    engine.receive(key(1), wire.encode(wire.Events([e.raw for e in first])), 1.1)
    engine.actions()
    engine.stored(key(1), [], 1.2, declined=[e.id for e in first])  # strangers' only
    engine.actions()

    more = [bytes([n // 256, n % 256]) * 16 for n in range(1_000)]
    engine.receive(key(1), wire.encode(wire.Offer(more)), 2.0)

    assert len(wanted(engine.actions(), key(1))) == c.DECLINED_PROBE
