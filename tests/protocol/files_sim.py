"""An in-memory swarm for the download scheduler: peers with latency and bandwidth, a fake
clock, and peers that lie, vanish or say nothing."""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

from protocol.files import Ban, Bitfield, Cancel, Layout, Request, Scheduler, SchedulerConfig
from protocol.files.blob import BadChunk


@dataclass
class SimPeer:
    """A source: `lies` corrupts every chunk it sends, `silent` never answers, and it
    leaves at `leaves_at` (its link closes)."""

    name: str
    holds: set[int]
    latency: float = 0.01
    bandwidth: float = 10e6  # bytes per second
    lies: bool = False
    silent: bool = False
    leaves_at: float | None = None
    busy_until: float = 0.0
    sent: int = 0


@dataclass
class Swarm:
    layout: Layout
    data: bytes
    peers: list[SimPeer]
    config: SchedulerConfig = field(default_factory=SchedulerConfig)
    seed: int = 1
    now: float = 0.0
    received: dict[int, bytes] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    cancels: list[Cancel] = field(default_factory=list)
    bans: list[Ban] = field(default_factory=list)
    max_in_flight: int = 0

    def __post_init__(self) -> None:
        self.scheduler = Scheduler(
            self.layout,
            Bitfield(self.layout.chunks),
            rng=random.Random(self.seed),
            config=self.config,
        )
        self._queue: list[tuple[float, int, str, int, bytes]] = []
        self._cancelled: set[tuple[str, int]] = set()
        self._in_flight: dict[tuple[str, int], int] = {}
        self._order = 0
        self._by_name = {peer.name: peer for peer in self.peers}

    def chunk(self, index: int) -> bytes:
        start = self.layout.offset(index)
        return self.data[start : start + self.layout.chunk_length(index)]

    def run(self, until: float = 600.0) -> None:
        for peer in self.peers:
            self.scheduler.add_peer(peer.name, Bitfield(self.layout.chunks, peer.holds), self.now)
        self._carry_out()
        while not self.scheduler.complete and self.now < until:
            self._step()
        assert self.scheduler.complete, f"stuck at {len(self.scheduler.have)} chunks"

    def _step(self) -> None:
        times = [self._queue[0][0]] if self._queue else []
        timer = self.scheduler.get_timer()
        if timer is not None:
            times.append(timer)
        leaving = [p.leaves_at for p in self.peers if p.leaves_at and p.leaves_at > self.now]
        self.now = max(self.now, min(times + leaving, default=self.now + 1.0))
        for peer in self.peers:
            if peer.leaves_at is not None and peer.leaves_at <= self.now:
                peer.leaves_at = None
                peer.silent = True
                self.scheduler.remove_peer(peer.name, self.now)
        while self._queue and self._queue[0][0] <= self.now:
            _, _, name, index, data = heapq.heappop(self._queue)
            if (name, index) in self._cancelled:
                self._cancelled.discard((name, index))
                continue
            self._in_flight.pop((name, index), None)
            good = self._verify(index, data)
            if good:
                self.received.setdefault(index, data)
            self.scheduler.received(name, index, good=good, now=self.now)
        timer = self.scheduler.get_timer()
        if timer is not None and timer <= self.now:
            self.scheduler.handle_timer(self.now)
        self._carry_out()

    def _verify(self, index: int, data: bytes) -> bool:
        try:
            self.layout.verify_chunk(index, data)
        except BadChunk:
            return False
        return True

    def _carry_out(self) -> None:
        for action in self.scheduler.actions():
            if isinstance(action, Request):
                self.requests.append(action)
                self._send(self._by_name[str(action.peer)], action.index)
            elif isinstance(action, Cancel):
                self.cancels.append(action)
                self._cancelled.add((str(action.peer), action.index))
                self._in_flight.pop((str(action.peer), action.index), None)
            else:
                self.bans.append(action)
        self.max_in_flight = max(self.max_in_flight, sum(self._in_flight.values()))

    def _send(self, peer: SimPeer, index: int) -> None:
        assert index in peer.holds, f"{peer.name} was asked for chunk {index} it lacks"
        length = self.layout.chunk_length(index)
        self._in_flight[(peer.name, index)] = length
        if peer.silent:
            return
        start = max(self.now, peer.busy_until)
        peer.busy_until = start + length / peer.bandwidth
        data = self.chunk(index)
        if peer.lies:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        peer.sent += 1
        self._order += 1
        heapq.heappush(
            self._queue, (peer.busy_until + peer.latency, self._order, peer.name, index, data)
        )
