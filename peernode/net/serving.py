"""What peers' requests may make this node send: a byte budget per peer and in total,
shared out across links by deficit round-robin.

Rules of this file:
- Plain data, no I/O: the clock is passed in (peernode.net.servegate drives it).
- A turn is one chunk of an answer (one store read, or a slice of events held in memory);
  one peer takes a turn at a time, so this also shares out the store's one thread.
- Peers waiting for a turn take them in a ring: each gets `quantum` bytes of credit when
  its turn comes round (deficit round-robin), so a peer reading large events gets no more
  bytes per round than one reading small ones.
- A turn is charged afterwards, with the bytes it really brought: budgets may go below
  zero by one chunk, and a peer (or everyone, for the total) waits until they are above
  zero again. Answers are delayed, never dropped: an honest peer catching up still
  finishes, at the budget's pace.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from peernode.errors import BadInput

MAX_SERVERS = 1024
"""Peers whose budgets are remembered (those linked, and recently linked ones)."""


@dataclass(frozen=True, slots=True)
class ServingConfig:
    """Bytes per second (sustained) and bytes at once (after a quiet time) that answers to
    one peer's requests, and to all peers' together, may take (docs/security.md,
    "Serving budget"). quantum: bytes of credit per turn in the round-robin."""

    peer_rate: float = 1_250_000.0  # 10 Mbit/s
    peer_burst: float = 8_000_000.0
    total_rate: float = 2_500_000.0  # 20 Mbit/s: well below a Wi-Fi's share of a room
    total_burst: float = 16_000_000.0
    quantum: int = 1 << 20

    def __post_init__(self) -> None:
        if min(self.peer_rate, self.total_rate) <= 0 or self.quantum < 1:
            raise BadInput("serving rates and the quantum must be positive")
        if min(self.peer_burst, self.total_burst) < self.quantum:
            raise BadInput("serving bursts must be at least one quantum")


class Allowance:
    """A token bucket that may be overdrawn: charged after the fact, usable while above 0."""

    __slots__ = ("_stamp", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst = rate, burst
        self._tokens = burst
        self._stamp = now

    def ready_at(self, now: float) -> float:
        """When it is above zero again (now, if it is)."""
        self._refill(now)
        return now if self._tokens > 0 else now + (1.0 - self._tokens) / self.rate

    def charge(self, now: float, amount: float) -> None:
        self._refill(now)
        self._tokens -= amount

    def _refill(self, now: float) -> None:
        if now > self._stamp:  # a clock going back refills nothing
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now


@dataclass(slots=True, eq=False)
class _Server:
    allowance: Allowance
    deficit: float = 0.0
    waiting: bool = False
    sent: int = 0  # bytes charged in all


@dataclass(slots=True)
class ServingScheduler:
    """Whose answer goes next, and when (see the rules above)."""

    config: ServingConfig
    now: float
    _total: Allowance = field(init=False)
    _ring: deque[bytes] = field(default_factory=deque)
    _servers: dict[bytes, _Server] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._total = Allowance(self.config.total_rate, self.config.total_burst, self.now)

    def want(self, peer: bytes, now: float) -> None:
        """`peer` has a chunk of an answer ready to go: it joins the ring (at the end)."""
        server = self._servers.get(peer)
        if server is None:
            cfg = self.config
            server = self._servers[peer] = _Server(Allowance(cfg.peer_rate, cfg.peer_burst, now))
        if not server.waiting:
            server.waiting = True
            self._ring.append(peer)

    def next_turn(self, now: float) -> tuple[bytes | None, float]:
        """(the peer whose turn it is, now) or (None, when to ask again; inf: nobody waits)."""
        if not self._ring:
            return None, float("inf")
        ready_all = self._total.ready_at(now)
        if ready_all > now:
            return None, ready_all
        while True:  # each pass gives every peer within its budget one more quantum
            earliest = float("inf")
            for _ in range(len(self._ring)):
                peer = self._ring[0]
                server = self._servers[peer]
                ready = server.allowance.ready_at(now)
                if ready <= now:
                    if server.deficit <= 0:
                        server.deficit += self.config.quantum
                    if server.deficit > 0:
                        return peer, now
                else:  # over its own budget: the others go first meanwhile
                    earliest = min(earliest, ready)
                self._ring.rotate(-1)
            if earliest < float("inf") and all(
                self._servers[peer].allowance.ready_at(now) > now for peer in self._ring
            ):
                return None, earliest

    def spent(self, peer: bytes, amount: int, now: float, *, more: bool = False) -> None:
        """`peer`'s turn brought `amount` bytes; `more`: it has another chunk ready now."""
        server = self._servers.get(peer)
        if server is None:
            return
        server.allowance.charge(now, amount)
        self._total.charge(now, amount)
        server.sent += amount
        server.deficit -= amount
        if server.waiting:
            self._ring.remove(peer)  # at the head: it was its turn
        server.waiting = more
        if not more:
            server.deficit = min(server.deficit, 0.0)  # debt is kept, credit is not saved up
        elif server.deficit > 0:
            self._ring.appendleft(peer)  # credit left: its turn goes on
        else:
            self._ring.append(peer)

    def leave(self, peer: bytes) -> None:
        """`peer` waits no more (its link closed, or its answer was given up)."""
        server = self._servers.get(peer)
        if server is not None and server.waiting:
            server.waiting = False
            self._ring.remove(peer)
            server.deficit = min(server.deficit, 0.0)
        if server is not None and not server.waiting:
            self._prune()

    def _prune(self) -> None:
        """Keep at most MAX_SERVERS records, the oldest idle ones forgotten first: a key that
        comes back later starts with a full budget of its own, within the total one."""
        if len(self._servers) <= MAX_SERVERS:
            return
        for peer in [p for p, s in self._servers.items() if not s.waiting]:
            if len(self._servers) <= MAX_SERVERS:
                break
            del self._servers[peer]

    def sent(self, peer: bytes) -> int:
        """Bytes charged to `peer` so far (0 for a peer not known)."""
        server = self._servers.get(peer)
        return 0 if server is None else server.sent
