"""GossipEngine: the sans-IO gossip node the shell drives with links, bytes and a clock."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from protocol import wire
from protocol.errors import LocalProtocolError, RemoteProtocolError
from protocol.event import Event, event_id
from protocol.gossip import config as c
from protocol.gossip.actions import Action, PeerView, Verify
from protocol.gossip.broadcast import Broadcast
from protocol.gossip.config import GossipConfig
from protocol.gossip.membership import Membership
from protocol.gossip.state import LinkState, Peer, Pending, Shared, Via
from protocol.gossip.sync import Sync
from protocol.gossip.timers import Timer, TimerKind
from protocol.identity import PUBLIC_KEY_BYTES
from protocol.reconcile import ItemIndex

_MEMBERSHIP = (TimerKind.MAINTAIN, TimerKind.SHUFFLE, TimerKind.DIAL, TimerKind.LINK)
_SYNC = (TimerKind.WANT, TimerKind.SESSION_START, TimerKind.SESSION_EXPIRE)


@dataclass(slots=True, eq=False)
class _VerifyBatch:
    sender: bytes
    ids: list[bytes]
    timer: Timer
    remaining: int


class GossipEngine:
    """HyParView membership, Plumtree broadcast and reconciliation catch-up for one node.

    Feed it link changes, received messages and timer ticks; drain `actions()` after each
    call and run them; call `get_timer()` to know when to call `handle_timer()` next. Faults
    of a peer never raise: they end in a Close action for that peer. work_clock (the shell
    passes time.perf_counter) times the reconciliation work each peer makes us do, so it
    gets at most config.reconcile_share of our time; None leaves it untimed.
    """

    def __init__(
        self,
        *,
        self_key: bytes,
        index: ItemIndex,
        rng: random.Random,
        now: float,
        config: GossipConfig = GossipConfig(),  # noqa: B008 - frozen, so sharing is safe
        self_address: wire.PeerAddress | None = None,
        name: str = "",
        work_clock: Callable[[], float] | None = None,
    ) -> None:
        if len(self_key) != PUBLIC_KEY_BYTES:
            raise LocalProtocolError(f"self_key must be {PUBLIC_KEY_BYTES} bytes")
        if len(name.encode()) > wire.MAX_NAME_BYTES:
            raise LocalProtocolError(f"name is longer than {wire.MAX_NAME_BYTES} UTF-8 bytes")
        if self_address is not None and self_address.key != self_key:
            raise LocalProtocolError("self_address.key must be self_key")
        s = Shared(
            self_key=self_key,
            index=index,
            rng=rng,
            config=config,
            name=name,
            work_clock=work_clock,
        )
        self._s = s
        self._broadcast = Broadcast(s)
        self._sync = Sync(s, self._broadcast.serve)
        self._membership = Membership(
            s, self_address=self_address, on_active=self._sync.on_active, now=now
        )
        self._verify: dict[int, _VerifyBatch] = {}
        self._verify_order: dict[bytes, deque[int]] = {}  # sender -> its batches, oldest first
        self._verify_count = 0

    @property
    def config(self) -> GossipConfig:
        return self._s.config

    # -- links ---------------------------------------------------------------------------

    def add_candidates(self, addresses: Iterable[wire.PeerAddress], now: float) -> None:
        """Addresses to dial (mDNS, --peer, remembered); key=b"" when the key is not known."""
        self._membership.add_candidates(addresses, now)

    def announced(self, address: wire.PeerAddress, now: float) -> None:
        """A fresh announcement of `address` (mDNS): unlike add_candidates, it clears the
        backoff of that key, so a peer back from a restart is dialled now, not in minutes."""
        self._membership.announced(address, now)

    def set_familiar(self, keys: Iterable[bytes], now: float) -> None:
        """Peers with history, as the shell judges it (linked in earlier runs, members of
        our circles): while some are not linked, strangers' inbound links keep
        reserved_links slots free for them, and a familiar peer finding every slot taken
        replaces the stranger whose link brought the fewest new events."""
        self._s.familiar = frozenset(keys)
        self._membership.kick(now)

    def add_familiar(self, key: bytes, now: float) -> None:
        """One more peer with history, from now on (the learner named it: --peer,
        connect): as set_familiar, also while its link is up or when it links again."""
        if key not in self._s.familiar:
            self.set_familiar(self._s.familiar | {key}, now)

    def link_up(
        self,
        key: bytes,
        now: float,
        *,
        outbound: bool,
        address: wire.PeerAddress | None = None,
    ) -> None:
        """A verified link to `key` is up (identity proven by the handshake).

        address: outbound, the address dialed; inbound, the remote host with the peer's
        listening port if known, else port 0 (Hello brings it). The shell keeps at most one
        link per key: a second link_up for a linked key replaces the old link's state.
        """
        if len(key) != PUBLIC_KEY_BYTES:
            raise LocalProtocolError(f"a peer key is {PUBLIC_KEY_BYTES} bytes")
        old = self._s.peers.get(key)
        if old is not None:
            self._forget(old, now)
        self._membership.link_up(key, now, outbound, address)

    def link_sending(self, key: bytes, waiting: bool, drained: int, now: float) -> None:
        """A sample of the link to `key`, as the shell measures it every second or so:
        whether bytes wait to go out, and how many the kernel took since the last sample.
        A link whose bytes wait while it drains less than config.stall_progress_bytes does
        not read: it gives its slot to one that wants it, and is closed after stall_limit."""
        peer = self._s.peers.get(key)
        if peer is not None and peer.open:
            self._membership.slots.sending(peer, waiting, max(0, drained), now)

    def set_listen_port(self, port: int | None) -> None:
        """Where this node accepts links, sent in every later Hello (nil if it does not)."""
        if port is not None and not 1 <= port <= 65535:
            raise LocalProtocolError(f"listen port {port} is outside 1..65535")
        self._membership.listen_port = port

    def link_down(self, key: bytes, now: float) -> None:
        peer = self._s.peers.get(key)
        if peer is not None:
            self._forget(peer, now)

    def resync_all(self, now: float) -> None:
        """Events may have been lost after they were received (the store refused them):
        reconcile with every linked peer shortly."""
        for peer in self._s.active_peers():
            self._sync.soon(peer, now)

    def dial_failed(self, address: wire.PeerAddress, now: float) -> None:
        self._membership.dial_failed(address, now)

    def _forget(self, peer: Peer, now: float) -> None:
        del self._s.peers[peer.key]
        peer.state = LinkState.CLOSING
        self._sync.peer_gone(peer)
        self._broadcast.parent_lost(peer)
        self._membership.link_down(peer, now)

    # -- messages ------------------------------------------------------------------------

    def receive(self, key: bytes, data: bytes, now: float) -> None:
        """One decrypted message from `key`; a malformed one closes that link."""
        peer = self._s.peers.get(key)
        if peer is None or not peer.open:
            return
        peer.last_seen = now
        if not peer.message_allowance.take(now):
            self._s.close(peer, f"flooding: over {c.MESSAGE_RATE:.0f} messages/s")
            self._membership.penalize(peer.key, now)
            return
        try:
            self._dispatch(peer, wire.decode(data), now)
        except RemoteProtocolError as exc:
            self._s.close(peer, f"protocol error: {exc}")
            self._membership.penalize(peer.key, now)

    def _dispatch(self, peer: Peer, msg: wire.Message, now: float) -> None:
        match msg:
            case (
                wire.Hello()
                | wire.Join()
                | wire.Neighbor()
                | wire.NeighborReply()
                | wire.Disconnect()
                | wire.ForwardJoin()
                | wire.Shuffle()
                | wire.ShuffleReply()
            ):
                self._membership.on_message(peer, msg, now)
            case wire.Ping(nonce):
                self._s.send(peer, wire.Pong(nonce))
            case wire.Pong():
                pass
            case _ if not peer.active:
                pass  # not accepted yet (its NeighborReply may be lost): gossip waits
            case wire.Events(raws):
                self._on_events(peer, raws, now)
            case wire.IHave(ids):
                self._broadcast.on_ihave(peer, ids, now)
            case wire.Want(ids):
                self._broadcast.serve(peer, ids)
            case wire.Prune():
                self._broadcast.on_prune(peer)
            case wire.Graft(ids):
                self._broadcast.on_graft(peer, ids)
            case wire.Reconcile():
                peer.reconciled_at = now
                self._sync.on_reconcile(peer, msg, now)
            case wire.ReconcileDone():
                self._sync.on_done(peer, msg)
            case wire.Offer(ids):
                self._sync.on_offer(peer, ids, now)

    def _on_events(self, peer: Peer, raws: list[bytes], now: float) -> None:
        s = self._s
        number = self._verify_count + 1
        fresh: list[bytes] = []
        seen: set[bytes] = set()
        duplicate = answered = False
        throttled = 0
        self._membership.slots.review(peer, now)  # its push bucket grows after probation
        for raw in raws:
            eid = event_id(raw)
            peer.events_received += 1
            if eid in seen:
                continue  # repeated inside one frame: odd, but says nothing about the tree
            seen.add(eid)
            wanted = self._sync.answered(peer, eid)
            grafted = not wanted and eid in peer.grafted
            peer.grafted.discard(eid)
            peer.grafts_answered += grafted
            answered = answered or wanted
            if not (wanted or grafted) and not peer.push_allowance.take(now):
                throttled += 1
                continue  # unasked and over the limit: dropped unverified
            if s.known(eid):
                # Declined by us, not redundant: the sender may well store its author.
                duplicate = duplicate or not (wanted or grafted or eid in s.declined)
                continue
            if wanted:
                peer.verifying += 1
                via = Via.WANT
            elif peer.pushes_verifying < c.MAX_PUSH_VERIFYING:
                peer.pushes_verifying += 1
                via = Via.GRAFT if grafted else Via.PUSH
            else:
                continue  # the peer floods us faster than we verify: drop, it is not lost
            s.pending[eid] = Pending(peer, via, number)
            fresh.append(raw)
        if throttled:
            self._throttle(peer, throttled, now)
        # A duplicate says this link is redundant in the tree, unless it was a reconciliation
        # push (a small difference is sent as Events): those overlap tree pushes by nature.
        if duplicate and now - peer.reconciled_at > s.config.reconcile_push_window:
            self._broadcast.duplicate_push(peer, now)
        if fresh:
            self._verify_count = number
            timer = s.timers.schedule(now + s.config.verify_timeout, TimerKind.VERIFY, number)
            ids = [event_id(raw) for raw in fresh]
            self._verify[number] = _VerifyBatch(peer.key, ids, timer, len(ids))
            self._verify_order.setdefault(peer.key, deque()).append(number)
            s.emit(Verify(peer.key, fresh))
        if answered:
            self._sync.after_fetch(peer, now)

    def _throttle(self, peer: Peer, count: int, now: float) -> None:
        """`count` pushes were dropped for the limit; past the tolerance the peer is closed
        and kept away as a flooder. What it sent within the limit is still verified."""
        peer.throttled += count
        if not peer.flood_tolerance.take(now, count) and peer.open:
            self._s.close(peer, f"flooding: {peer.throttled} events over the limit dropped")
            self._membership.penalize(peer.key, now)

    # -- results from the shell ----------------------------------------------------------

    def publish(self, events: Sequence[Event], now: float) -> None:
        """Events new to this node that came from no peer (posted here, or by a CLI process)."""
        self._store(None, events, now)

    def stored(
        self,
        sender: bytes | None,
        events: Sequence[Event],
        now: float,
        *,
        declined: Sequence[bytes] = (),
    ) -> None:
        """Events verified and stored after a Verify action (`sender`: the peer they came from).

        Call it once per Verify action, even with no event, then rejected() if some failed:
        ids of the batch not reported here are forgotten (so they may be fetched again).
        declined: ids of the batch that were valid but that the node chose not to store
        (local policy, never the sender's fault): remembered as held, so no reconciliation
        asks for them again, and never offered or forwarded.
        """
        for eid in declined:
            self._s.decline(eid)
            pending = self._s.pending.get(eid)
            if pending is not None and pending.via is Via.WANT:
                pending.peer.fetched_declined = True
        self._store(sender, events, now)

    def restore_declined(self, ids: Iterable[bytes]) -> None:
        """Ids the node declined before (a restart), oldest first: treated as declined now."""
        for eid in ids:
            self._s.decline(eid)

    def forget_declined(self) -> None:
        """The node's policy changed (a stranger became familiar, an unblock): what it
        declined may be fetched again."""
        self._s.declined.clear()

    def _store(self, sender: bytes | None, events: Sequence[Event], now: float) -> None:
        s = self._s
        forward: list[tuple[bytes, bytes]] = []
        fetched: dict[int, Peer] = {}
        answered: dict[int, None] = {}  # Verify batches these events came from
        for event in events:
            pending = s.pending.pop(event.id, None)
            if pending is not None:
                answered[pending.batch] = None
                self._release(pending)
            if not s.index.add(event.created_at, event.id):
                continue
            self._broadcast.remember(event.id, event.raw)
            if pending is not None:
                pending.peer.events_new += 1
                pending.peer.useful_at = now
            if pending is not None and pending.via is Via.WANT:
                pending.peer.fetched_new = True
                fetched[id(pending.peer)] = pending.peer
            else:
                forward.append((event.id, event.raw))
        for peer in self._broadcast.forward(forward, exclude=sender, now=now):
            self._sync.soon(peer, now)
        if sender is not None:
            # stored() answers whole Verify batches: ids of them still pending were rejected
            # or were already in the store. With no event, it answers the sender's oldest.
            order = self._verify_order.get(sender, deque())
            while not answered and order:
                if order[0] in self._verify:
                    answered[order[0]] = None
                else:
                    order.popleft()
            for number in answered:
                for peer in self._close_batch(number):
                    fetched[id(peer)] = peer
        for peer in fetched.values():
            self._sync.after_fetch(peer, now)

    def rejected(self, sender: bytes, count: int, now: float) -> None:
        """`count` events from `sender` failed verification: call it after stored() for their
        batch (which already forgot their ids); this only scores the sender."""
        peer = self._s.peers.get(sender)
        if peer is not None and peer.open:
            peer.rejected += count
            if peer.rejected >= c.MAX_REJECTED:
                self._s.close(peer, f"sent {peer.rejected} invalid events")
                self._membership.penalize(peer.key, now)

    def _release(self, pending: Pending) -> None:
        if pending.via is Via.WANT:
            pending.peer.verifying -= 1
        else:
            pending.peer.pushes_verifying -= 1
        batch = self._verify.get(pending.batch)
        if batch is not None:
            batch.remaining -= 1
            if batch.remaining <= 0:
                self._s.timers.cancel(batch.timer)
                del self._verify[pending.batch]

    def _close_batch(self, number: int) -> list[Peer]:
        """Forget what is still pending of a Verify batch; returns peers whose fetches ended."""
        batch = self._verify.pop(number, None)
        if batch is None:
            return []
        self._s.timers.cancel(batch.timer)
        fetched: list[Peer] = []
        for eid in batch.ids:
            pending = self._s.pending.get(eid)
            if pending is not None and pending.batch == number:
                del self._s.pending[eid]
                self._release(pending)
                if pending.via is Via.WANT:
                    fetched.append(pending.peer)
        return fetched

    def _verify_expired(self, number: int, now: float) -> None:
        for peer in dict.fromkeys(self._close_batch(number)):
            self._sync.after_fetch(peer, now)

    # -- timers and outputs --------------------------------------------------------------

    def handle_timer(self, now: float) -> None:
        while (timer := self._s.timers.pop_due(now)) is not None:
            if timer.kind in _MEMBERSHIP:
                self._membership.on_timer(timer, now)
            elif timer.kind in _SYNC:
                self._sync.on_timer(timer, now)
            elif timer.kind is TimerKind.GRAFT:
                self._broadcast.on_timer(timer, now)
            elif timer.kind is TimerKind.VERIFY:
                assert isinstance(timer.key, int)
                self._verify_expired(timer.key, now)
            elif timer.kind is TimerKind.RECONCILE_WORK:
                for peer, exc in self._sync.run_waiting(now):
                    self._s.close(peer, f"protocol error: {exc}")
                    self._membership.penalize(peer.key, now)
        self._broadcast.flush()

    def get_timer(self) -> float | None:
        """The earliest deadline at which handle_timer() must be called, if any."""
        return self._s.timers.next_deadline()

    def actions(self) -> list[Action]:
        """Drain the actions produced so far, in order."""
        return self._s.drain()

    def peer_view(self, key: bytes) -> PeerView | None:
        peer = self._s.peers.get(key)
        return None if peer is None or not peer.open else _view(peer)

    def peers(self) -> list[PeerView]:
        """Every open link, active or still being accepted."""
        return [_view(p) for p in self._s.peers.values() if p.open]

    def link_count(self) -> int:
        """Open links (pending or active); never above max_links after a call returns."""
        return self._s.open_links()

    def passive_view(self) -> list[wire.PeerAddress]:
        return self._membership.passive()


def _view(peer: Peer) -> PeerView:
    return PeerView(
        key=peer.key,
        linked=peer.active,
        outbound=peer.outbound,
        in_sync=peer.active and peer.clean and peer.idle,
        last_seen=peer.last_seen,
        events_received=peer.events_received,
        events_sent=peer.events_sent,
        address=peer.address,
        name=peer.name,
        eager=peer.eager,
        wants_outstanding=peer.in_flight,
        wants_queued=len(peer.queue),
        stalled_since=peer.stalled_since,
    )
