"""Anti-entropy: reconciliation sessions per link and flow-controlled fetching of what they find."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from protocol import wire
from protocol.errors import RemoteProtocolError
from protocol.gossip import config as c
from protocol.gossip.budget import TokenBucket
from protocol.gossip.state import Peer, Session, Shared, WantBatch
from protocol.gossip.timers import Timer, TimerKind
from protocol.reconcile import MIN_MESSAGE_BYTES, Reconciler, ReconcileResult


class Sync:
    """Runs reconciliation sessions and turns their findings into Events, Offer and Want.

    Only the initiator of a session learns the differences. The dialer of a link starts a
    session when the link becomes active and then every reconcile_interval (jittered); either
    side may start extra ones (follow-ups, cascades). Session ids are odd when the dialer
    started them and even otherwise, so sessions in both directions never get mixed up.
    """

    def __init__(self, shared: Shared, serve: Callable[[Peer, Sequence[bytes]], None]) -> None:
        self._s = shared
        self._serve = serve
        self._requested: dict[bytes, Peer] = {}  # id -> the one peer we asked for it
        self._counter = 0
        self._batches = 0
        self._waiting: list[Peer] = []  # peers with a message waiting for the work budget
        self._work_timer: Timer | None = None

    # -- sessions ------------------------------------------------------------------------

    def on_active(self, peer: Peer, now: float) -> None:
        if peer.outbound:
            self.schedule(peer, now)

    def schedule(self, peer: Peer, when: float) -> None:
        """Start a session with `peer` at `when`, unless one is already due earlier."""
        if when < peer.next_session:
            self._s.timers.cancel(peer.session_timer)
            peer.session_timer = self._s.timers.schedule(when, TimerKind.SESSION_START, peer)
            peer.next_session = when

    def soon(self, peer: Peer, now: float) -> None:
        """The peer lacks events we could not push to it: reconcile shortly (or right after
        the session running now, which may have started before they were stored)."""
        peer.resync = True
        self.schedule(peer, now + self._s.config.resync_delay)

    def _start(self, peer: Peer, now: float) -> None:
        peer.next_session = float("inf")
        peer.session_timer = None
        if not peer.active or peer.session_out is not None or not peer.idle:
            return  # a running session or catch-up schedules the next one when it ends
        peer.resync = False
        self._counter = (self._counter + 1) % (wire.MAX_SESSION // 2)
        session_id = self._counter * 2 + (1 if peer.outbound else 0)
        reconciler = Reconciler(self._s.index, max_message_bytes=wire.MAX_RECONCILE_PAYLOAD)
        session = Session(session_id, reconciler, initiator=True)
        peer.session_out = session
        self._touch(peer, session, now)
        self._s.send(peer, wire.Reconcile(session_id, reconciler.initiate()))

    def on_reconcile(self, peer: Peer, msg: wire.Reconcile, now: float) -> None:
        """A Reconcile message: answered now, or once the work budget allows (in order)."""
        ours = msg.session % 2 == (1 if peer.outbound else 0)
        if not ours and not peer.reconcile_allowance.take(now):
            raise RemoteProtocolError(
                f"reconciliation: more than {c.RECONCILE_RATE:.0f} messages a second"
            )
        if peer.waiting or not self._may_work(peer, now):
            # Over its share of our time: it waits (an honest peer sends one message at a
            # time in each direction; a newer one replaces what waited).
            peer.waiting.pop(ours, None)
            peer.waiting[ours] = msg
            if peer not in self._waiting:
                self._waiting.append(peer)
            self._arm_work(now)
            return
        self._answer(peer, msg, ours, now)

    def run_waiting(self, now: float) -> list[tuple[Peer, RemoteProtocolError]]:
        """Answer the messages that waited, as the budgets allow: peers we know first, then
        in the order they came. Returns the peers whose message broke the protocol."""
        self._work_timer = None
        faults: list[tuple[Peer, RemoteProtocolError]] = []
        queue = sorted(self._waiting, key=lambda p: p.key not in self._s.familiar)
        self._waiting = []
        for peer in queue:
            while peer.open and peer.waiting and self._may_work(peer, now):
                ours = next(iter(peer.waiting))
                msg = peer.waiting.pop(ours)
                try:
                    self._answer(peer, msg, ours, now)
                except RemoteProtocolError as exc:
                    faults.append((peer, exc))
            if peer.open and peer.waiting:
                self._waiting.append(peer)
        self._arm_work(now)
        return faults

    def _may_work(self, peer: Peer, now: float) -> bool:
        """Neither this peer's share of our time nor everyone's is overspent."""
        return self._work(peer).level(now) >= 0 and self._s.work_allowance.level(now) >= 0

    def _work(self, peer: Peer) -> TokenBucket:
        if peer.work_allowance is None:
            share = self._s.config.reconcile_share
            peer.work_allowance = TokenBucket(share, share)
        return peer.work_allowance

    def _arm_work(self, now: float) -> None:
        """A timer for when the first waiting peer may be answered."""
        if self._work_timer is not None or not self._waiting:
            return
        total = self._s.work_allowance.ready_at(now, 0)
        first = min(self._work(p).ready_at(now, 0) for p in self._waiting)
        self._work_timer = self._s.timers.schedule(
            max(total, first), TimerKind.RECONCILE_WORK, None
        )

    def _answer(self, peer: Peer, msg: wire.Reconcile, ours: bool, now: float) -> None:
        if ours:
            session = peer.session_out
            if session is None or session.id != msg.session:
                return  # a late answer to a session we gave up
        else:
            session = peer.session_in
            if msg.session == peer.finished_in:
                return
            if session is None or session.id != msg.session:
                self._end_in(peer)
                reconciler = Reconciler(self._s.index, max_message_bytes=wire.MAX_RECONCILE_PAYLOAD)
                session = Session(msg.session, reconciler, initiator=False)
                peer.session_in = session
        limit = None if ours else self._reply_limit(peer, now)
        result = self._timed(peer, session, msg.payload, now, limit)
        if not ours and result.reply is not None:
            peer.reply_allowance.take_up_to(now, len(result.reply))
            self._s.reply_allowance.take_up_to(now, len(result.reply))
        if result.truncated:
            peer.truncated = True  # the session stopped early: a new one finds the rest
        self._touch(peer, session, now)
        session.differences += len(result.have) + len(result.need)
        if result.have:
            self._give(peer, result.have, now)
        if result.need:
            self.enqueue(peer, result.need, now)
        if result.reply is not None:
            self._s.send(peer, wire.Reconcile(session.id, result.reply))
        if ours and result.reply is None:
            self._finish(peer, session, now)
        elif not ours and session.reconciler.done:
            self._end_in(peer)

    def _reply_limit(self, peer: Peer, now: float) -> int:
        """Bytes our reply in the peer's session may take (config.RECONCILE_REPLY_RATE)."""
        room = min(peer.reply_allowance.whole(now), self._s.reply_allowance.whole(now))
        return max(MIN_MESSAGE_BYTES, min(wire.MAX_RECONCILE_PAYLOAD, room))

    def _timed(
        self, peer: Peer, session: Session, payload: bytes, now: float, limit: int | None
    ) -> ReconcileResult:
        """Run the reconciler on one message, timed on the work clock and charged to the
        peer and to everyone; its searches stop when the time left to either runs out.
        limit: bytes the reply may take (None: the link's bound)."""
        clock = self._s.work_clock
        if clock is None:
            return self._receive(session, payload, None, limit)
        work, total = self._work(peer), self._s.work_allowance
        started = clock()
        slice_ = min(self._s.config.reconcile_slice, work.level(now), total.level(now))
        deadline = started + slice_
        try:
            return self._receive(session, payload, lambda: clock() >= deadline, limit)
        finally:
            spent = max(0.0, clock() - started)
            work.charge(now, spent)
            total.charge(now, spent)

    @staticmethod
    def _receive(
        session: Session, payload: bytes, stop: Callable[[], bool] | None, limit: int | None
    ) -> ReconcileResult:
        try:
            return session.reconciler.receive(payload, stop=stop, reply_limit=limit)
        except RemoteProtocolError as exc:
            raise RemoteProtocolError(f"reconciliation: {exc}") from exc

    def on_done(self, peer: Peer, msg: wire.ReconcileDone) -> None:
        """The peer's session with us ended; its result tells whether we are in sync."""
        session = peer.session_in
        if session is not None and session.id == msg.session:
            self._end_in(peer)
        elif msg.session != peer.finished_in:
            return
        peer.clean = msg.differences == 0

    def _finish(self, peer: Peer, session: Session, now: float) -> None:
        self._s.timers.cancel(session.timer)
        peer.session_out = None
        self._s.send(peer, wire.ReconcileDone(session.id, session.differences))
        if session.differences == 0:
            peer.clean = True
            peer.dirty_streak = 0
            if peer.resync:
                self.schedule(peer, now + self._s.config.resync_delay)
            elif peer.outbound:
                self.schedule(peer, now + self._s.jitter(self._s.config.reconcile_interval))
            return
        peer.clean = False
        peer.dirty_streak += 1
        if peer.idle:  # nothing to fetch: look again soon; else when the fetching ends
            self.schedule(peer, now + self._resync_delay(peer))

    def _end_in(self, peer: Peer) -> None:
        session = peer.session_in
        if session is not None:
            self._s.timers.cancel(session.timer)
            peer.finished_in = session.id
            peer.session_in = None

    def _touch(self, peer: Peer, session: Session, now: float) -> None:
        self._s.timers.cancel(session.timer)
        session.timer = self._s.timers.schedule(
            now + self._s.config.session_timeout, TimerKind.SESSION_EXPIRE, (peer, session)
        )

    def _resync_delay(self, peer: Peer) -> float:
        delay = self._s.config.resync_delay * 2.0 ** min(peer.dirty_streak - 1, 16)
        return min(self._s.config.reconcile_interval, delay)

    def _give(self, peer: Peer, ids: list[bytes], now: float) -> None:
        # A few are pushed at once (within what the peer accepts unasked); many are offered,
        # so the receiver fetches at its own pace.
        if len(ids) <= c.PUSH_HAVE_MAX and peer.send_allowance.take(now, len(ids)):
            self._serve(peer, ids)
            return
        for start in range(0, len(ids), wire.MAX_IDS):
            self._s.send(peer, wire.Offer(ids[start : start + wire.MAX_IDS]))

    # -- fetching ------------------------------------------------------------------------

    def enqueue(self, peer: Peer, ids: Sequence[bytes], now: float) -> None:
        """Queue ids the peer holds and we lack, then send Wants as the window allows."""
        s = self._s
        added = False
        limit = c.DECLINED_PROBE if peer.declined_only else c.MAX_QUEUED
        for event_id in ids:
            if s.known(event_id) or event_id in peer.queued or event_id in peer.asked:
                continue
            if len(peer.queue) >= limit:
                peer.truncated = True
                break
            peer.queue.append(event_id)
            peer.queued.add(event_id)
            added = True
        if added:
            peer.clean = False
            peer.backlog = True
            self.pump(peer, now)

    def pump(self, peer: Peer, now: float) -> None:
        """Top up the Wants in flight to want_window, in batches of at least half a window
        (a peer without history: STRANGER_WINDOW while one with history has ids to fetch)."""
        window = self._s.config.want_window
        if peer.key not in self._s.familiar and self._familiar_fetching():
            window = min(window, c.STRANGER_WINDOW)
        if not peer.active or peer.in_flight > window // 2:
            return
        room = window - peer.in_flight
        batch: list[bytes] = []
        while room > 0 and peer.queue:
            event_id = peer.queue.popleft()
            peer.queued.discard(event_id)
            if self._s.known(event_id) or event_id in self._requested:
                continue
            batch.append(event_id)
            room -= 1
        if not batch:
            self._maybe_drained(peer, now)
            return
        self._batches += 1
        number = self._batches
        timer = self._s.timers.schedule(
            now + self._s.config.want_timeout, TimerKind.WANT, (peer, number)
        )
        peer.batches[number] = WantBatch(timer, len(batch))
        for event_id in batch:
            peer.asked[event_id] = number
            self._requested[event_id] = peer
        for start in range(0, len(batch), wire.MAX_IDS):
            self._s.send(peer, wire.Want(batch[start : start + wire.MAX_IDS]))

    def _familiar_fetching(self) -> bool:
        """Whether a peer with history has ids queued or wanted."""
        familiar = self._s.familiar
        return any(p.key in familiar and not p.idle for p in self._s.active_peers())

    def _strangers_next(self, now: float) -> None:
        """Fetching from peers with history ended: the others get their whole window."""
        if not self._familiar_fetching():
            for other in self._s.active_peers():
                if other.key not in self._s.familiar and other.queue:
                    self.pump(other, now)

    def answered(self, peer: Peer, event_id: bytes) -> bool:
        """An event arrived from `peer`: True if it answers one of our Wants."""
        number = peer.asked.pop(event_id, None)
        if number is None:
            return False
        if self._requested.get(event_id) is peer:
            del self._requested[event_id]
        peer.retries.pop(event_id, None)
        batch = peer.batches.get(number)
        if batch is not None:
            batch.remaining -= 1
            if batch.remaining <= 0:
                self._s.timers.cancel(batch.timer)
                del peer.batches[number]
        return True

    def after_fetch(self, peer: Peer, now: float) -> None:
        """Fetched events were stored or dropped: make room for more, notice the end."""
        self.pump(peer, now)
        self._maybe_drained(peer, now)

    def _maybe_drained(self, peer: Peer, now: float) -> None:
        if not peer.backlog or not peer.idle or not peer.active:
            return
        peer.backlog = False
        if peer.key in self._s.familiar:
            self._strangers_next(now)
        peer.declined_only = peer.fetched_declined and not peer.fetched_new
        peer.fetched_declined = False
        if peer.fetched_new:
            # We caught up from this peer; our other peers may lack the same events.
            peer.fetched_new = False
            for other in self._s.active_peers():
                if other is not peer:
                    self.schedule(other, now + self._s.jitter(self._s.config.cascade_delay))
        if not peer.clean or peer.truncated:
            peer.truncated = False
            self.schedule(peer, now + self._resync_delay(peer))

    def on_offer(self, peer: Peer, ids: Sequence[bytes], now: float) -> None:
        self.enqueue(peer, ids, now)

    # -- timers and teardown -------------------------------------------------------------

    def on_timer(self, timer: Timer, now: float) -> None:
        if timer.kind is TimerKind.SESSION_START:
            assert isinstance(timer.key, Peer)
            if timer.key.session_timer is timer:
                self._start(timer.key, now)
        elif timer.kind is TimerKind.SESSION_EXPIRE:
            assert isinstance(timer.key, tuple)
            peer, session = timer.key
            self._expire(peer, session, now)
        elif timer.kind is TimerKind.WANT:
            assert isinstance(timer.key, tuple)
            peer, number = timer.key
            self._want_timeout(peer, number, now)

    def _expire(self, peer: Peer, session: Session, now: float) -> None:
        if peer.session_out is session:
            peer.session_out = None
            peer.clean = False
            if peer.outbound:  # lost messages: try again well before the next period
                self.schedule(peer, now + self._s.jitter(self._s.config.reconcile_interval / 4))
        elif peer.session_in is session:
            self._end_in(peer)

    def _want_timeout(self, peer: Peer, number: int, now: float) -> None:
        if peer.batches.pop(number, None) is None or not peer.open:
            return
        late = [event_id for event_id, n in peer.asked.items() if n == number]
        for event_id in reversed(late):
            del peer.asked[event_id]
            if self._requested.get(event_id) is peer:
                del self._requested[event_id]
            tries = peer.retries.pop(event_id, 0) + 1
            if self._s.known(event_id):
                continue
            if tries > c.WANT_RETRIES:
                peer.truncated = True  # given up: the next session finds it again
            elif event_id not in peer.queued:
                peer.retries[event_id] = tries
                peer.queue.appendleft(event_id)
                peer.queued.add(event_id)
        self.after_fetch(peer, now)

    def peer_gone(self, peer: Peer) -> None:
        timers = self._s.timers
        for event_id in peer.asked:
            if self._requested.get(event_id) is peer:
                del self._requested[event_id]
        for batch in peer.batches.values():
            timers.cancel(batch.timer)
        for session in (peer.session_out, peer.session_in):
            if session is not None:
                timers.cancel(session.timer)
        timers.cancel(peer.session_timer)
        peer.asked.clear()
        peer.batches.clear()
        peer.queue.clear()
        peer.queued.clear()
        peer.session_out = peer.session_in = None
        peer.waiting.clear()
