"""Link slots: which link may take one, and which link gives way when one is wanted.

Rules of this file:
- A key is familiar (the shell says so: it has history with us), seen (a link of it
  finished its probation in this run) or fresh (neither). Fresh keys cost nothing to mint,
  so they come last: their inbound links never take the last fresh_headroom slots nor
  anyone's slot, and for their first `probation` seconds they may push only a small burst.
- Strangers' inbound links hold at most stranger_links slots, fewer while familiar peers
  are away (reserved_links): what they leave is for peers we know and for our own dials.
- A link that comes up at full takes the slot of a link that does not read (bytes waited
  stall_grace while it took less than stall_progress_bytes), then of a stranger that
  brought nothing new for idle_window; a familiar peer's link also that of the stranger
  that brought the fewest new events. A link that has not read for stall_limit is closed
  even when no slot is wanted. The shell samples each link (GossipEngine.link_sending):
  whether bytes wait, and how many the kernel took.
- A penalty of a stranger's key also bars its host, for fresh keys, as long: minting a
  key does not escape it. Loopback is exempt (several nodes on one machine are the
  owner's own).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from protocol.gossip import config as c
from protocol.gossip.budget import TokenBucket
from protocol.gossip.state import Peer, Shared

_NEVER = float("-inf")


def is_loopback(host: str) -> bool:
    """This machine: several nodes here are the owner's own, not a Sybil attack."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Evict:
    """Close `peer`'s link, for `reason`, to make room for the link that comes up."""

    peer: Peer
    reason: str


class Slots:
    """The standing of keys and hosts in this run, and the rules for giving out slots."""

    def __init__(self, shared: Shared) -> None:
        self._s = shared
        self._seen: dict[bytes, None] = {}  # keys past probation this run, oldest first
        self._barred: dict[str, float] = {}  # host -> fresh keys from it refused until

    # -- standing ------------------------------------------------------------------------

    def fresh(self, key: bytes) -> bool:
        """Neither familiar nor seen in this run: a key that may have been minted now."""
        return key not in self._s.familiar and key not in self._seen

    def barred(self, key: bytes, host: str | None, now: float) -> bool:
        """A fresh key linking from a host whose stranger was penalized recently."""
        return host is not None and self.fresh(key) and self._barred.get(host, now) > now

    def penalized(self, key: bytes, now: float) -> None:
        """`key` misbehaved: it loses its standing, and a stranger's host is barred."""
        s = self._s
        self._seen.pop(key, None)
        peer = s.peers.get(key)
        if peer is None:
            return
        peer.probation_until = _NEVER  # it never graduates
        host = peer.link_host
        if host is not None and key not in s.familiar and not is_loopback(host):
            self._barred.pop(host, None)
            self._barred[host] = now + s.config.penalty
            if len(self._barred) > c.MAX_PENALTIES:
                del self._barred[next(iter(self._barred))]

    def review(self, peer: Peer, now: float) -> None:
        """End `peer`'s probation once its time is up: a full push bucket, its key seen."""
        if peer.probation_until != _NEVER and now >= peer.probation_until:
            peer.probation_until = _NEVER
            peer.push_allowance.burst = c.PUSH_BURST
            self._seen.pop(peer.key, None)
            self._seen[peer.key] = None
            if len(self._seen) > c.MAX_SEEN:
                del self._seen[next(iter(self._seen))]

    def sending(self, peer: Peer, waiting: bool, drained: int, now: float) -> None:
        """Bytes wait on `peer`'s link (or not), and the kernel took `drained` since the
        last sample: it reads while it takes stall_progress_bytes in a while; a link that
        has not for stall_limit is closed."""
        config = self._s.config
        if not waiting:
            peer.stalled_since, peer.stall_drained = None, 0
            return
        peer.stall_drained += drained
        if peer.stalled_since is None or peer.stall_drained >= config.stall_progress_bytes:
            peer.stalled_since, peer.stall_drained = now, 0
        stalled = now - peer.stalled_since
        if stalled > config.stall_limit:
            self._s.close(peer, f"it does not read: its queue barely moved for {stalled:.0f} s")

    # -- placing a new link --------------------------------------------------------------

    def place(self, peer: Peer, full: bool, now: float) -> str | Evict | None:
        """Whether `peer`, just up (in s.peers), gets a slot: None if one is free, Evict if
        it takes another link's, else the reason it is refused."""
        s, config = self._s, self._s.config
        familiar = peer.key in s.familiar
        fresh = self.fresh(peer.key)
        peer.useful_at = now
        if fresh and config.probation > 0:
            peer.probation_until = now + config.probation
            peer.push_allowance = TokenBucket(c.PUSH_RATE, config.probation_push_burst)
        if fresh:
            headroom = min(config.fresh_headroom, config.max_links - config.target_links)
            if not peer.outbound and s.open_links() > config.max_links - headroom:
                return "new peers wait while few slots are free"
        victim = self._victim(peer, familiar, now) if full else None
        if full and victim is None:
            return "link limit reached"
        if not peer.outbound and not familiar:
            leaving = victim is not None and self._stranger_in(victim.peer)
            if self._strangers_in() - leaving > self._stranger_room():
                return "the remaining links are kept for peers we know"
        return victim

    def _victim(self, newcomer: Peer, familiar: bool, now: float) -> Evict | None:
        """The link that gives its slot to `newcomer`, if any may."""
        s, config = self._s, self._s.config
        others = [p for p in s.peers.values() if p.open and p is not newcomer]
        stalled = [
            p
            for p in others
            if p.stalled_since is not None and now - p.stalled_since >= config.stall_grace
        ]
        if stalled:
            victim = min(stalled, key=lambda p: (p.key in s.familiar, p.stalled_since))
            return Evict(victim, "it does not read: its slot went to a new link")
        strangers = [p for p in others if p.key not in s.familiar]
        idle = [p for p in strangers if now - p.useful_at >= config.idle_window]
        if idle:
            victim = min(idle, key=lambda p: (p.useful_at, -p.since))
            window = f"{config.idle_window:.0f} s"
            return Evict(victim, f"nothing new from it for {window}: its slot went to a new link")
        if familiar and strangers:
            victim = min(strangers, key=lambda p: (p.events_new, -p.since))
            return Evict(victim, "its slot went to a peer we know")
        return None

    def _stranger_in(self, peer: Peer) -> bool:
        return peer.open and not peer.outbound and peer.key not in self._s.familiar

    def _strangers_in(self) -> int:
        """Open inbound links of peers that are not familiar (a new one included)."""
        return sum(1 for p in self._s.peers.values() if self._stranger_in(p))

    def _stranger_room(self) -> int:
        """Inbound links strangers may hold: stranger_links at most, and all but the slots
        kept for familiar peers who are not linked (none kept when every familiar peer is
        linked, or none is known)."""
        s = self._s
        away = sum(1 for key in s.familiar if key not in s.peers or not s.peers[key].open)
        kept = min(s.config.reserved_links, away, s.config.max_links - 1)
        return min(s.config.stranger_links, s.config.max_links - kept)
