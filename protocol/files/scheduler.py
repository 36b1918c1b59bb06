"""Which chunk to ask of which peer: the receiver-driven scheduler of one download.

Rules of this file:
- Pure: inputs are what peers hold, what arrived (verified or not) and `now`; outputs are
  Request, Cancel and Ban actions, drained with `actions()`. The shell sends them.
- Each peer has a window of bytes in flight sized to what it delivers: `window_gain` x
  its measured rate x its base round trip (the bandwidth-delay product, with room),
  at least `initial_window` chunks, at most `max_window` chunks; a timeout halves its
  rate. The whole download keeps at most `max_bytes_in_flight`.
- Pieces are chosen at random first (so peers starting together spread), then the
  rarest among the peers first, or lowest first in in-order mode (a video plays).
- A whole holder (a seed, whose uplink every receiver in the room shares) is asked for
  a chunk some partial holder also holds only while no partial holder is sending
  anything (they are paused, or hold nothing more we lack): it is kept for the chunks
  nobody else has. While a partial holder is a peer, a whole holder's window is the
  least (`initial_window`): a shallow queue at the seed means what it sends arrives,
  and is announced, sooner, so fewer receivers pick the same chunk of it meanwhile.
- End game: when every missing chunk is asked for, an idle peer asks for one again;
  the first good copy wins and the other request is cancelled.
- A request not answered by its deadline moves to another peer. A bad chunk is a
  strike; at `strikes_to_ban` the peer is banned for this download.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Final, TypeAlias

from protocol.errors import LocalProtocolError
from protocol.files.bitfield import Bitfield
from protocol.files.blob import Layout

Peer: TypeAlias = Hashable

MAX_REQUESTERS: Final = 2
"""In the end game, how many peers may be asked for the same chunk at once."""


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    """initial_window, max_window: chunks in flight per peer, the least and the most;
    between them the window follows the peer's rate x round trip x window_gain.
    request_timeout: seconds before a request moves to another peer. refused_pause:
    seconds a peer that refused (busy, or no longer holding the chunk) is left alone."""

    initial_window: int = 2
    max_window: int = 16
    window_gain: float = 4.0
    max_bytes_in_flight: int = 32 * 1024 * 1024
    random_first: int = 4
    request_timeout: float = 10.0
    refused_pause: float = 2.0
    strikes_to_ban: int = 2
    in_order: bool = False
    end_game: bool = True


@dataclass(frozen=True, slots=True)
class Request:
    peer: Peer
    index: int


@dataclass(frozen=True, slots=True)
class Cancel:
    peer: Peer
    index: int


@dataclass(frozen=True, slots=True)
class Ban:
    peer: Peer
    reason: str


Action: TypeAlias = Request | Cancel | Ban


RATE_WEIGHT: Final = 0.25
"""Weight of a new sample in a peer's rate (a moving average)."""
RTT_RISE: Final = 0.05
"""A peer's base round trip falls to any shorter sample at once, and rises this share of
the way toward a longer one (a network that became slower is followed, slowly)."""


@dataclass(slots=True)
class _Peer:
    available: Bitfield
    inflight: dict[int, float] = field(default_factory=dict)  # chunk -> deadline
    inflight_bytes: int = 0
    lacks: set[int] = field(default_factory=set)  # refused, or sent bad
    strikes: int = 0
    paused_until: float = 0.0
    received: int = 0
    rate: float = 0.0  # bytes per second it delivers; 0: not measured yet
    base_rtt: float = 0.0  # seconds from a request to its chunk, the shortest lately
    last_arrival: float = 0.0

    def measure(self, length: int, asked_at: float, now: float) -> None:
        """A chunk of `length` bytes asked at `asked_at` arrived good at `now`."""
        rtt = max(now - asked_at, 1e-6)
        if not self.base_rtt or rtt < self.base_rtt:
            self.base_rtt = rtt
        else:
            self.base_rtt += (rtt - self.base_rtt) * RTT_RISE
        # The time it was busy on this chunk: since it was asked or since the last one
        # arrived, whichever is later (time it sat idle is not its slowness).
        busy = max(now - max(asked_at, self.last_arrival), 1e-6)
        sample = length / busy
        self.rate = sample if not self.rate else self.rate + (sample - self.rate) * RATE_WEIGHT
        self.last_arrival = now


class Scheduler:
    """The plan of one download across every peer that holds some of it."""

    def __init__(
        self,
        layout: Layout,
        have: Bitfield,
        *,
        rng: random.Random,
        config: SchedulerConfig = SchedulerConfig(),
    ) -> None:
        if have.size != layout.chunks:
            raise LocalProtocolError("the have-bitfield must have one bit per chunk")
        self.layout = layout
        self.have = have
        self.config = config
        self._rng = rng
        self._peers: dict[Peer, _Peer] = {}
        self.banned: dict[Peer, str] = {}
        self._availability = [0] * layout.chunks
        self._requesters: dict[int, set[Peer]] = {}
        self._unrequested = set(have.missing())
        self._picked = 0
        self._bytes_in_flight = 0
        self._actions: list[Action] = []

    # -- inputs ---------------------------------------------------------------------

    def add_peer(self, peer: Peer, available: Bitfield, now: float) -> None:
        """A peer holds `available` (all of it for a full holder)."""
        if peer in self.banned or peer in self._peers:
            return
        if available.size != self.layout.chunks:
            raise LocalProtocolError("a peer's bitfield must have one bit per chunk")
        self._peers[peer] = _Peer(available)
        for index in available:
            self._availability[index] += 1
        self._fill(now)

    def peer_has(self, peer: Peer, index: int, now: float) -> None:
        """A partial holder got one more chunk."""
        state = self._peers.get(peer)
        if state is not None and index not in state.available:
            state.available.add(index)
            self._availability[index] += 1
            self._fill(now)

    def remove_peer(self, peer: Peer, now: float) -> None:
        """The peer is gone (its link closed): what it was asked moves to others."""
        state = self._peers.pop(peer, None)
        if state is None:
            return
        for index in list(state.inflight):
            self._drop(peer, state, index)
        for index in state.available:
            self._availability[index] -= 1
        self._fill(now)

    def received(self, peer: Peer, index: int, *, good: bool, now: float) -> None:
        """Chunk `index` arrived from `peer`; `good`: it matched its hash."""
        state = self._peers.get(peer)
        if state is None or index not in state.inflight:
            return
        asked_at = state.inflight[index] - self.config.request_timeout
        self._drop(peer, state, index)
        if good:
            state.measure(self.layout.chunk_length(index), asked_at, now)
            self._chunk_done(peer, state, index)
        else:
            self._strike(peer, state, index, now)
        self._fill(now)

    def refused(self, peer: Peer, index: int, *, missing: bool, now: float) -> None:
        """The peer would not send the chunk: it is busy, or (`missing`) no longer holds it."""
        state = self._peers.get(peer)
        if state is None or index not in state.inflight:
            return
        self._drop(peer, state, index)
        if missing:
            state.lacks.add(index)
        state.paused_until = now + self.config.refused_pause
        self._fill(now)

    def handle_timer(self, now: float) -> None:
        for peer, state in list(self._peers.items()):
            late = [index for index, deadline in state.inflight.items() if deadline <= now]
            for index in late:
                self._drop(peer, state, index)
                self._actions.append(Cancel(peer, index))
                state.rate /= 2
        self._fill(now)

    # -- outputs --------------------------------------------------------------------

    def get_timer(self) -> float | None:
        deadlines = [d for state in self._peers.values() for d in state.inflight.values()]
        paused = [s.paused_until for s in self._peers.values() if s.paused_until]
        return min(deadlines + paused, default=None)

    def actions(self) -> list[Action]:
        actions, self._actions = self._actions, []
        return actions

    @property
    def complete(self) -> bool:
        return self.have.complete

    @property
    def have_bytes(self) -> int:
        return sum(self.layout.chunk_length(index) for index in self.have)

    @property
    def sources(self) -> int:
        """Peers that hold something this download still needs."""
        return sum(1 for state in self._peers.values() if len(state.available))

    @property
    def stalled(self) -> bool:
        """Nothing in flight and no peer to ask: it waits for a new peer."""
        return not self.complete and not any(s.inflight for s in self._peers.values())

    def peers(self) -> Iterable[Peer]:
        return self._peers.keys()

    # -- the plan -------------------------------------------------------------------

    def window(self, peer: Peer) -> int:
        """The bytes `peer` may have in flight now."""
        state = self._peers[peer]
        chunk = self.layout.chunk_size
        measured = self.config.window_gain * state.rate * state.base_rtt
        least = self.config.initial_window * chunk
        if state.available.complete and self._partial_holders():
            return least  # spare the seed's queue: see the rules above
        return int(min(max(measured, least), self.config.max_window * chunk))

    def _drop(self, peer: Peer, state: _Peer, index: int) -> None:
        del state.inflight[index]
        length = self.layout.chunk_length(index)
        state.inflight_bytes -= length
        self._bytes_in_flight -= length
        requesters = self._requesters.get(index)
        if requesters is not None:
            requesters.discard(peer)
            if not requesters:
                del self._requesters[index]
                if index not in self.have:
                    self._unrequested.add(index)

    def _chunk_done(self, peer: Peer, state: _Peer, index: int) -> None:
        state.received += 1
        if index in self.have:
            return  # the end game's other copy, already here
        self.have.add(index)
        self._unrequested.discard(index)
        for other in list(self._requesters.get(index, ())):  # the end game's loser
            self._drop(other, self._peers[other], index)
            self._actions.append(Cancel(other, index))

    def _strike(self, peer: Peer, state: _Peer, index: int, now: float) -> None:
        state.strikes += 1
        state.lacks.add(index)
        state.rate = 0.0  # back to the initial window
        if state.strikes >= self.config.strikes_to_ban:
            reason = f"{state.strikes} chunks that did not match their hash"
            self.banned[peer] = reason
            self._actions.append(Ban(peer, reason))
            for other in list(state.inflight):
                self._actions.append(Cancel(peer, other))
            self.remove_peer(peer, now)

    def _fill(self, now: float) -> None:
        """Ask until every usable peer's window is full or the byte cap is reached."""
        if self.complete:
            return
        asked = True
        while asked:
            asked = False
            order = list(self._peers.items())
            self._rng.shuffle(order)
            for peer, state in order:
                if state.paused_until > now:
                    continue
                state.paused_until = 0.0
                if state.inflight and state.inflight_bytes >= self.window(peer):
                    continue
                index = self._choose(peer, state)
                if index is None:
                    continue
                length = self.layout.chunk_length(index)
                if self._bytes_in_flight and (
                    self._bytes_in_flight + length > self.config.max_bytes_in_flight
                ):
                    return
                self._ask(peer, state, index, length, now)
                asked = True

    def _ask(self, peer: Peer, state: _Peer, index: int, length: int, now: float) -> None:
        state.inflight[index] = now + self.config.request_timeout
        state.inflight_bytes += length
        self._bytes_in_flight += length
        self._requesters.setdefault(index, set()).add(peer)
        self._unrequested.discard(index)
        self._picked += 1
        self._actions.append(Request(peer, index))

    def _all_whole(self) -> bool:
        """Every peer holds the whole blob: rarest-first has nothing to choose by."""
        return all(state.available.complete for state in self._peers.values())

    def _whole_holders(self) -> int:
        return sum(1 for state in self._peers.values() if state.available.complete)

    def _partials_busy(self) -> bool:
        """Some partial holder is sending us a chunk."""
        return any(s.inflight for s in self._peers.values() if not s.available.complete)

    def _partial_holders(self) -> bool:
        return any(not state.available.complete for state in self._peers.values())

    def _choose(self, peer: Peer, state: _Peer) -> int | None:
        if state.available.complete:  # a full holder: set operations, not a bit per chunk
            usable = list(self._unrequested - state.lacks)
        else:
            usable = [i for i in self._unrequested if i in state.available and i not in state.lacks]
        if not usable and self.config.end_game and not self._unrequested:
            usable = [
                index
                for index, requesters in self._requesters.items()
                if peer not in requesters
                and len(requesters) < MAX_REQUESTERS
                and index in state.available
                and index not in state.lacks
            ]
        if not usable:
            return None
        if self.config.in_order:
            return min(usable)
        if self._picked < self.config.random_first or self._all_whole():
            return self._rng.choice(sorted(usable))  # every chunk is as rare as any other
        rarest = min(self._availability[index] for index in usable)
        if state.available.complete and rarest > self._whole_holders() and self._partials_busy():
            return None  # a partial holder has it too: spare the whole holder's uplink
        return self._rng.choice(sorted(i for i in usable if self._availability[i] == rarest))
