"""HyParView-style membership: a bounded active view of links and a passive view of addresses."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import TypeAlias

from protocol import wire
from protocol.errors import RemoteProtocolError
from protocol.gossip import config as c
from protocol.gossip.actions import Dial
from protocol.gossip.budget import TokenBucket
from protocol.gossip.slots import Evict, Slots, is_loopback
from protocol.gossip.state import LinkState, Peer, Shared
from protocol.gossip.timers import Timer, TimerKind

Ident: TypeAlias = bytes | tuple[str, int]
"""An address's identity: its key, or host and port for a manual peer of unknown key."""


def ident(address: wire.PeerAddress) -> Ident:
    return address.key if address.key else (address.host, address.port)


class Membership:
    """Keeps between target_links and max_links links open, never more than max_links.

    Outbound links are opened from the passive view (addresses from the shell, shuffles and
    ForwardJoin walks); inbound links are accepted only while a slot is free.
    """

    def __init__(
        self,
        shared: Shared,
        *,
        self_address: wire.PeerAddress | None,
        on_active: Callable[[Peer, float], None],
        now: float,
    ) -> None:
        self._s = shared
        self._self_address = self_address
        self.listen_port: int | None = None if self_address is None else self_address.port
        self._on_active = on_active
        self._passive: dict[Ident, wire.PeerAddress] = {}
        self._manual: dict[Ident, wire.PeerAddress] = {}
        self._manual_keys: dict[Ident, bytes] = {}  # manual address -> key learned at link-up
        self._dialing: dict[Ident, Timer] = {}
        self._backoff: dict[Ident, tuple[int, float]] = {}  # failures, retry not before
        self._probes: set[bytes] = set()  # keys dialed by rotation
        self._penalties: dict[bytes, float] = {}  # misbehaving key -> refused until
        self._dial_allowance = TokenBucket(c.DIAL_RATE, c.DIAL_BURST)
        self.slots = Slots(shared)
        self._joined = False
        self._maintain: Timer | None = None
        self.kick(now)
        shared.timers.schedule(
            now + shared.jitter(shared.config.shuffle_interval), TimerKind.SHUFFLE
        )

    # -- inputs from the shell -----------------------------------------------------------

    def add_candidates(self, addresses: Iterable[wire.PeerAddress], now: float) -> None:
        for address in addresses:
            if address.key:
                self._add_passive(address)
            elif len(self._manual) < c.MAX_MANUAL and 0 < address.port < 65536:
                self._manual[ident(address)] = address
        self.kick(now)

    def announced(self, address: wire.PeerAddress, now: float) -> None:
        """The peer at `address` announced itself just now (it started again, or came back
        to the network): dial it at once, forgetting the backoff its absence earned."""
        if not address.key:
            return
        self._backoff.pop(address.key, None)
        self.add_candidates([address], now)

    def dial_failed(self, address: wire.PeerAddress, now: float) -> None:
        who = ident(address)
        self._s.timers.cancel(self._dialing.pop(who, None))
        self._fail(who, now)
        if address.key:
            self._probes.discard(address.key)
            self._passive.pop(who, None)  # HyParView: a dead address leaves the passive view
        self.kick(now)

    def link_up(
        self, key: bytes, now: float, outbound: bool, address: wire.PeerAddress | None
    ) -> Peer | None:
        """Register a new link; returns the peer, or None if it was refused at once."""
        s = self._s
        for who in (key, *(() if address is None else (ident(address),))):
            s.timers.cancel(self._dialing.pop(who, None))
        if outbound and address is not None and not address.key:
            self._manual_keys[ident(address)] = key
        peer = Peer(key, outbound, since=now, last_seen=now)
        full = s.open_links() >= s.config.max_links
        s.peers[key] = peer
        if key == s.self_key:
            s.close(peer, "link to ourselves")
            return None
        host = None if address is None else address.host
        if self._penalties.get(key, now) > now or self.slots.barred(key, host, now):
            self._drop(peer, "misbehaved recently")
            return None
        if host is not None and self._host_counts().get(host, 0) >= s.config.max_links_per_host:
            self._drop(peer, f"{s.config.max_links_per_host} links from {host} already")
            return None
        if not self._place(peer, full, now):
            return None
        self._passive.pop(key, None)
        if address is not None:
            # Outbound: where we dialed. Inbound: the remote host, and its listening port if
            # the shell knows it (else 0, and the port comes with Hello).
            peer.link_host = address.host
            dialable = wire.PeerAddress(key, address.host, address.port)
            peer.address = dialable if wire.valid_address(dialable) else None
        s.send(peer, wire.Hello(wire.PROTOCOL_VERSION, s.name, self.listen_port, len(s.index)))
        if outbound:
            s.send(peer, self._request())
        peer.link_timer = s.timers.schedule(now + s.config.link_timeout, TimerKind.LINK, peer)
        return peer

    def _place(self, peer: Peer, full: bool, now: float) -> bool:
        """Give `peer` a slot (another link may give way, see Slots.place), or refuse it."""
        placed = self.slots.place(peer, full, now)
        if isinstance(placed, str):
            self._refuse(peer, placed)
            return False
        if isinstance(placed, Evict):
            self._drop(placed.peer, placed.reason)
        return True

    def penalize(self, key: bytes, now: float) -> None:
        """Keep away from a peer that broke the protocol or sent invalid events."""
        self.slots.penalized(key, now)
        self._penalties.pop(key, None)
        self._penalties[key] = now + self._s.config.penalty
        if len(self._penalties) > c.MAX_PENALTIES:
            del self._penalties[next(iter(self._penalties))]
        self._passive.pop(key, None)
        self.kick(now)

    def _request(self) -> wire.Join | wire.Neighbor:
        # Join (which makes the contact spread our address) only while we know too few
        # addresses to fill our active view ourselves; with mDNS that is rarely the case.
        s = self._s
        known = len(self._passive) + len(self._manual)
        if not self._joined and known < s.config.target_links:
            return wire.Join()
        return wire.Neighbor(not s.active_peers())

    def link_down(self, peer: Peer, now: float) -> None:
        self._s.timers.cancel(peer.link_timer)
        self._probes.discard(peer.key)
        self.slots.review(peer, now)
        if peer.address is not None and peer.key != self._s.self_key:
            self._add_passive(peer.address)
        self.kick(now)

    # -- messages ------------------------------------------------------------------------

    def on_message(self, peer: Peer, msg: wire.Message, now: float) -> None:
        match msg:
            case wire.Hello():
                self._on_hello(peer, msg)
            case wire.Join() | wire.Neighbor():
                self._on_request(peer, msg, now)
            case wire.NeighborReply(accepted):
                self._on_reply(peer, accepted, now)
            case wire.Disconnect():
                self._s.close(peer, "peer disconnected")
                self.kick(now)
            case wire.ForwardJoin(address, ttl) if peer.active:
                self._on_forward_join(peer, address, min(ttl, c.ACTIVE_WALK), now)
            case wire.Shuffle() if peer.active:
                self._on_shuffle(peer, msg)
            case wire.ShuffleReply(peers):
                for address in peers:
                    self._add_passive(address)

    def _on_hello(self, peer: Peer, msg: wire.Hello) -> None:
        if msg.version != wire.PROTOCOL_VERSION:
            raise RemoteProtocolError(f"unsupported protocol version {msg.version}")
        peer.name = msg.name
        if not peer.outbound and peer.link_host is not None and msg.listen_port is not None:
            address = wire.PeerAddress(peer.key, peer.link_host, msg.listen_port)
            peer.address = address if wire.valid_address(address) else peer.address

    def _on_request(self, peer: Peer, msg: wire.Join | wire.Neighbor, now: float) -> None:
        if peer.outbound:
            raise RemoteProtocolError(f"{type(msg).__name__} on a link we dialed")
        if peer.active:
            return  # a repeat: already accepted
        s = self._s
        needy = isinstance(msg, wire.Join) or msg.high_priority
        # Keep one slot for isolated peers: low-priority requests may not take the last one.
        if not needy and len(s.active_peers()) >= s.config.max_links - 1:
            s.send(peer, wire.NeighborReply(False))
            self._refuse(peer, "active view full")
            return
        s.send(peer, wire.NeighborReply(True))
        self._activate(peer, now)
        if isinstance(msg, wire.Join) and peer.address is not None:
            for other in s.active_peers():
                if other is not peer:
                    s.send(other, wire.ForwardJoin(peer.address, c.ACTIVE_WALK))

    def _on_reply(self, peer: Peer, accepted: bool, now: float) -> None:
        if not peer.outbound:
            raise RemoteProtocolError("NeighborReply on a link we did not dial")
        if peer.active:
            return
        if accepted:
            self._activate(peer, now)
            return
        self._fail(peer.key, now)
        self._s.close(peer, "refused by peer")
        self.kick(now)

    def _activate(self, peer: Peer, now: float) -> None:
        s = self._s
        peer.state = LinkState.ACTIVE
        s.timers.cancel(peer.link_timer)
        self._joined = True
        self._backoff.pop(peer.key, None)
        self._on_active(peer, now)
        if peer.key in self._probes:
            self._probes.discard(peer.key)
            others = [p for p in s.active_peers() if p is not peer]
            if len(others) > s.config.target_links:
                self._drop(s.rng.choice(others), "rotated out")

    def _on_forward_join(self, peer: Peer, address: wire.PeerAddress, ttl: int, now: float) -> None:
        s = self._s
        if address.key == s.self_key or address.key in s.peers:
            return
        others = [p for p in s.active_peers() if p is not peer]
        if ttl == 0 or not others:
            self._add_passive(address)
            if self._room(now) > 1 and ident(address) not in self._dialing and self._may_dial(now):
                self._dial(address, now)
            return
        if ttl == c.PASSIVE_WALK:
            self._add_passive(address)
        s.send(s.rng.choice(others), wire.ForwardJoin(address, ttl - 1))

    def _on_shuffle(self, peer: Peer, msg: wire.Shuffle) -> None:
        s = self._s
        others = [p for p in s.active_peers() if p is not peer]
        ttl = min(msg.ttl, c.ACTIVE_WALK)
        if ttl > 1 and others:
            s.send(s.rng.choice(others), wire.Shuffle(msg.origin, msg.peers, ttl - 1))
            return
        # The walk ends here; the reply goes back on the link it came from (no extra link).
        count = min(wire.MAX_PEERS, len(msg.peers) + 1)
        s.send(peer, wire.ShuffleReply(self._sample_passive(count)))
        for address in (*msg.peers, *(() if msg.origin is None else (msg.origin,))):
            self._add_passive(address)

    # -- timers --------------------------------------------------------------------------

    def on_timer(self, timer: Timer, now: float) -> None:
        s = self._s
        if timer.kind is TimerKind.MAINTAIN:
            self._maintain = None
            self._fill(now)
        elif timer.kind is TimerKind.SHUFFLE:
            s.timers.schedule(now + s.jitter(s.config.shuffle_interval), TimerKind.SHUFFLE)
            self._shuffle()
            self._rotate(now)
            self._fill(now)
        elif timer.kind is TimerKind.DIAL:
            assert isinstance(timer.key, bytes | tuple)
            if self._dialing.get(timer.key) is timer:
                del self._dialing[timer.key]
                self._fail(timer.key, now)
                self.kick(now)
        elif timer.kind is TimerKind.LINK:
            assert isinstance(timer.key, Peer)
            if timer.key.state is LinkState.PENDING and s.peers.get(timer.key.key) is timer.key:
                s.close(timer.key, "link not accepted in time")
                self.kick(now)

    def kick(self, now: float) -> None:
        """Run the dialing check at `now` (coalesced: many changes, one check)."""
        if self._maintain is None or self._maintain.when > now:
            self._s.timers.cancel(self._maintain)
            self._maintain = self._s.timers.schedule(now, TimerKind.MAINTAIN)

    def _fill(self, now: float) -> None:
        s = self._s
        missing = s.config.target_links - s.open_links() - len(self._dialing)
        wanted = min(missing, self._room(now), c.MAX_DIALS - len(self._dialing))
        if wanted > 0:
            candidates = self._candidates(now)
            allowed = self._dial_allowance.whole(now)
            if allowed < min(wanted, len(candidates)):
                self.kick(self._dial_allowance.ready_at(now, allowed + 1))
            for address in s.rng.sample(candidates, min(wanted, len(candidates), allowed)):
                self._dial(address, now)
        if len(s.active_peers()) < s.config.target_links and self._maintain is None:
            self._maintain = s.timers.schedule(now + s.config.maintain_retry, TimerKind.MAINTAIN)

    def _shuffle(self) -> None:
        s = self._s
        actives = s.active_peers()
        if not actives:
            return
        target = s.rng.choice(actives)
        known = [p.address for p in actives if p is not target and p.address is not None]
        sample = s.rng.sample(known, min(c.SHUFFLE_ACTIVE, len(known)))
        sample += self._sample_passive(c.SHUFFLE_PASSIVE)
        s.send(target, wire.Shuffle(self._self_address, sample, c.ACTIVE_WALK))

    def _rotate(self, now: float) -> None:
        s = self._s
        if len(s.active_peers()) < s.config.target_links or self._dialing:
            return
        if self._room(now) < 1 or s.rng.random() >= c.ROTATE_PROBABILITY:
            return
        if not self._may_dial(now):
            return
        candidates = [a for a in self._candidates(now) if a.key]
        if candidates:
            address = s.rng.choice(candidates)
            self._probes.add(address.key)
            self._dial(address, now)

    # -- helpers -------------------------------------------------------------------------

    def _room(self, now: float) -> int:
        s = self._s
        return s.config.max_links - s.open_links() - len(self._dialing)

    def _candidates(self, now: float) -> list[wire.PeerAddress]:
        s = self._s
        hosts = self._host_counts()
        out: list[wire.PeerAddress] = []
        for who, address in (*self._passive.items(), *self._manual.items()):
            if who in self._dialing or self._backoff.get(who, (0, now))[1] > now:
                continue
            key = address.key or self._manual_keys.get(who, b"")
            if key == s.self_key or key in s.peers or self._penalties.get(key, now) > now:
                continue
            if hosts.get(address.host, 0) >= s.config.max_links_per_host:
                continue
            out.append(address)
        return out

    def _host_counts(self) -> Counter[str]:
        """Open links per remote host, loopback left out (it has no cap)."""
        return Counter(
            p.link_host
            for p in self._s.peers.values()
            if p.open and p.link_host is not None and not is_loopback(p.link_host)
        )

    def _may_dial(self, now: float) -> bool:
        return self._dial_allowance.whole(now) >= 1

    def _dial(self, address: wire.PeerAddress, now: float) -> None:
        """Callers check _may_dial (or the allowance) first: dials are rate-limited."""
        self._dial_allowance.take(now)
        who = ident(address)
        timer = self._s.timers.schedule(now + self._s.config.dial_timeout, TimerKind.DIAL, who)
        self._dialing[who] = timer
        self._s.emit(Dial(address))

    def _fail(self, who: Ident, now: float) -> None:
        failures = self._backoff.pop(who, (0, now))[0] + 1
        wait = min(self._s.config.backoff_max, c.BACKOFF_BASE**failures)
        self._backoff[who] = (failures, now + wait)
        if len(self._backoff) > c.MAX_BACKOFF_ENTRIES:
            del self._backoff[next(iter(self._backoff))]

    def _refuse(self, peer: Peer, reason: str) -> None:
        # Hand out addresses first, so a refused newcomer still learns where to go.
        self._s.send(peer, wire.ShuffleReply(self._hints(c.REFUSAL_HINTS)))
        self._drop(peer, reason)

    def _drop(self, peer: Peer, reason: str) -> None:
        self._s.send(peer, wire.Disconnect())
        self._s.close(peer, reason)

    def _hints(self, count: int) -> list[wire.PeerAddress]:
        actives = [p.address for p in self._s.active_peers() if p.address is not None]
        pool = actives + [a for a in self._passive.values() if a.key]
        return self._s.rng.sample(pool, min(count, len(pool)))

    def _sample_passive(self, count: int) -> list[wire.PeerAddress]:
        pool = [a for a in self._passive.values() if a.key]
        return self._s.rng.sample(pool, min(count, len(pool)))

    def _add_passive(self, address: wire.PeerAddress) -> None:
        s = self._s
        if address.key == s.self_key or address.key in s.peers or not wire.valid_address(address):
            return
        if address.key not in self._passive and len(self._passive) >= s.config.passive_view:
            victim = s.rng.choice(list(self._passive))
            del self._passive[victim]
        self._passive[address.key] = address

    def passive(self) -> list[wire.PeerAddress]:
        return list(self._passive.values())
