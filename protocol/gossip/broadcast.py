"""Plumtree broadcast: eager push along a spanning tree, IHave to the rest, prune and graft."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from protocol import wire
from protocol.gossip import config as c
from protocol.gossip.actions import SendStored
from protocol.gossip.state import Peer, Shared
from protocol.gossip.timers import Timer, TimerKind


@dataclass(slots=True, eq=False)
class _Missing:
    """An id announced by IHave that we do not hold yet."""

    announcers: list[bytes]  # the first one's share of the table it counts against
    timer: Timer
    tries: int = 0
    grafted_from: bytes | None = None  # the announcer asked last, awaited until the timer


class Broadcast:
    """Forwards new events, answers Graft/Want from a cache of recent raws, repairs the tree."""

    def __init__(self, shared: Shared) -> None:
        self._s = shared
        self._cache: OrderedDict[bytes, bytes] = OrderedDict()
        self._missing: dict[bytes, _Missing] = {}
        # first announcer -> the ids of _missing it counts against, oldest first
        self._shares: dict[bytes, dict[bytes, None]] = {}
        self._grafts: dict[bytes, list[bytes]] = {}  # peer key -> ids, sent by flush()

    def remember(self, event_id: bytes, raw: bytes) -> None:
        """Keep a stored event's raw bytes to forward it and answer requests without the store."""
        self._cache[event_id] = raw
        if len(self._cache) > self._s.config.event_cache:
            self._cache.popitem(last=False)
        self._forget_missing(event_id)

    def forward(
        self, events: Sequence[tuple[bytes, bytes]], exclude: bytes | None, now: float
    ) -> list[Peer]:
        """Push (id, raw) pairs to eager peers and announce them to lazy ones.

        A peer is pushed no more than its send allowance (what it accepts unasked); the
        peers returned did not get everything and should reconcile soon.
        """
        if not events:
            return []
        raws = [raw for _, raw in events]
        ids = [event_id for event_id, _ in events]
        frames: dict[int, list[bytes]] = {}  # by how many events they carry
        behind: list[Peer] = []
        for peer in self._s.active_peers():
            if peer.key == exclude:
                continue
            if not peer.eager:
                for start in range(0, len(ids), wire.MAX_IDS):
                    self._s.send(peer, wire.IHave(ids[start : start + wire.MAX_IDS]))
                continue
            count = peer.send_allowance.take_up_to(now, len(raws))
            if count < len(raws):
                behind.append(peer)
            if count:
                if count not in frames:
                    frames[count] = wire.events_frames(raws[:count], self._s.config.max_frame_bytes)
                if len(frames[count]) > c.URGENT_PUSH_FRAMES:
                    self._s.emit(SendStored(peer.key, [], raws[:count], push=True))
                else:
                    self._s.send_frames(peer, frames[count])
                peer.events_sent += count
        return behind

    def serve(self, peer: Peer, ids: Sequence[bytes]) -> None:
        """Send the events with these ids that we hold (cached raws and ids for the store).
        An event already sent SERVE_REPEATS times on this link is not sent again."""
        index = self._s.index
        raws: list[bytes] = []
        stored: list[bytes] = []
        for event_id in dict.fromkeys(ids):
            raw = self._cache.get(event_id)
            if raw is None and event_id not in index:
                continue
            if not _count_served(peer, event_id):
                continue
            if raw is not None:
                raws.append(raw)
            else:
                stored.append(event_id)
        # Cached ones too go the bulk way: straight into the link's queue, an answer of
        # hundreds of large events would overflow it and close the link as "too slow".
        if (raws or stored) and peer.open:
            self._s.emit(SendStored(peer.key, stored, raws))
        peer.events_sent += len(raws) + len(stored)

    # -- tree maintenance ----------------------------------------------------------------

    def duplicate_push(self, peer: Peer, now: float) -> None:
        """A pushed event we already had: this link is redundant in the tree."""
        if peer.eager or now - peer.last_prune >= self._s.config.prune_repeat:
            peer.eager = False
            peer.pruned = True
            peer.last_prune = now
            self._s.send(peer, wire.Prune())

    def parent_lost(self, lost: Peer) -> None:
        """A link that pushed to us is gone, and with it maybe our only eager path from some
        authors: ask every peer we pruned to push again (an empty Graft) rather than wait
        for IHave timeouts. Duplicates that follow prune the tree back into shape."""
        if lost.pruned or not lost.events_received:
            return
        for peer in self._s.active_peers():
            if peer.pruned and peer is not lost:
                peer.pruned = False
                self._s.send(peer, wire.Graft([]))

    def on_prune(self, peer: Peer) -> None:
        peer.eager = False

    def on_graft(self, peer: Peer, ids: Sequence[bytes]) -> None:
        peer.eager = True
        self.serve(peer, ids)

    def on_ihave(self, peer: Peer, ids: Sequence[bytes], now: float) -> None:
        s = self._s
        if peer.announces_falsely:
            return  # reconciliation finds whatever it really has
        for event_id in ids:
            if event_id in s.index or event_id in s.declined:
                continue
            missing = self._missing.get(event_id)
            if missing is not None:
                if peer.key not in missing.announcers:
                    missing.announcers.append(peer.key)
            elif event_id not in s.pending and self._make_room(peer.key):
                timer = s.timers.schedule(now + s.config.ihave_timeout, TimerKind.GRAFT, event_id)
                self._missing[event_id] = _Missing([peer.key], timer)
                self._shares.setdefault(peer.key, {})[event_id] = None

    def _make_room(self, key: bytes) -> bool:
        """Room in the table for one more id announced first by `key`: when full, the
        oldest id of the peer holding the most gives way, if that is not `key` itself."""
        if len(self._missing) < c.MAX_MISSING:
            return True
        largest = max(self._shares, key=lambda owner: len(self._shares[owner]))
        if len(self._shares[largest]) <= len(self._shares.get(key, ())) + 1:
            return False
        self._forget_missing(next(iter(self._shares[largest])))
        return True

    def _forget_missing(self, event_id: bytes) -> None:
        missing = self._missing.pop(event_id, None)
        if missing is None:
            return
        self._s.timers.cancel(missing.timer)
        share = self._shares.get(missing.announcers[0])
        if share is not None:
            share.pop(event_id, None)
            if not share:
                del self._shares[missing.announcers[0]]

    def on_timer(self, timer: Timer, now: float) -> None:
        s = self._s
        event_id = timer.key
        assert isinstance(event_id, bytes)
        missing = self._missing.get(event_id)
        if missing is None or missing.timer is not timer:
            return
        retry = now + s.config.ihave_timeout
        if event_id in s.pending:  # arrived, being verified: look again later
            missing.timer = s.timers.schedule(retry, TimerKind.GRAFT, event_id)
            return
        if missing.grafted_from is not None:  # asked, and it did not send it in time
            asked = s.peers.get(missing.grafted_from)
            if asked is not None:
                asked.grafts_broken += 1
        peer = self._next_announcer(missing)
        if peer is None or missing.tries >= c.GRAFT_TRIES:
            self._forget_missing(event_id)  # anti-entropy will find it
            return
        missing.tries += 1
        missing.grafted_from = peer.key
        peer.eager = True
        if len(peer.grafted) >= c.MAX_MISSING:
            peer.grafted.clear()
        peer.grafted.add(event_id)
        self._grafts.setdefault(peer.key, []).append(event_id)
        missing.timer = s.timers.schedule(retry, TimerKind.GRAFT, event_id)

    def _next_announcer(self, missing: _Missing) -> Peer | None:
        # Try announcers in turn, so a dead or lossy one is not asked forever; one that
        # announces falsely only when no other is left.
        count = len(missing.announcers)
        fallback = None
        for step in range(count):
            peer = self._s.peers.get(missing.announcers[(missing.tries + step) % count])
            if peer is not None and peer.active:
                if not peer.announces_falsely:
                    return peer
                fallback = fallback or peer
        return fallback

    def flush(self) -> None:
        """Send the Grafts collected while handling timers, one message per peer."""
        grafts, self._grafts = self._grafts, {}
        for key, ids in grafts.items():
            peer = self._s.peers.get(key)
            if peer is not None and peer.active:
                peer.pruned = False
                for start in range(0, len(ids), wire.MAX_IDS):
                    self._s.send(peer, wire.Graft(ids[start : start + wire.MAX_IDS]))


def _count_served(peer: Peer, event_id: bytes) -> bool:
    """Count one more answer with `event_id` on this link; False once it had its share."""
    served = peer.served
    times = served.pop(event_id, 0)  # popped and put back: the newest last, evicted last
    if times >= c.SERVE_REPEATS:
        served[event_id] = times
        peer.refused_repeats += 1
        return False
    served[event_id] = times + 1
    if len(served) > c.MAX_SERVED_TRACKED:
        del served[next(iter(served))]
    return True
