"""State shared by the engine's parts: per-peer records, the outbox, and the common context."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum, auto

from protocol import wire
from protocol.errors import LocalProtocolError
from protocol.gossip import config as c
from protocol.gossip.actions import Action, Close, Send
from protocol.gossip.budget import TokenBucket
from protocol.gossip.config import GossipConfig
from protocol.gossip.timers import Timer, Timers
from protocol.reconcile import ItemIndex, Reconciler


class LinkState(Enum):
    PENDING = auto()  # link up, waiting for Join/Neighbor (inbound) or NeighborReply (outbound)
    ACTIVE = auto()  # in the active view
    CLOSING = auto()  # we asked the shell to close it; everything from it is ignored


class Via(Enum):
    """How an event reached us, which decides what we do once it is stored."""

    PUSH = auto()  # unrequested (eager push): forward along the tree
    GRAFT = auto()  # answer to our Graft: forward along the tree
    WANT = auto()  # answer to our Want (catch-up): not forwarded, peers reconcile instead


@dataclass(slots=True, eq=False)
class Pending:
    """An event handed to the shell for verification and not yet reported back."""

    peer: Peer
    via: Via
    batch: int


@dataclass(slots=True, eq=False)
class WantBatch:
    """One Want message's ids still unanswered, and its re-request deadline."""

    timer: Timer
    remaining: int


@dataclass(slots=True, eq=False)
class Session:
    """One reconciliation session with a peer."""

    id: int
    reconciler: Reconciler
    initiator: bool
    timer: Timer | None = None
    differences: int = 0


@dataclass(slots=True, eq=False)
class Peer:
    """Everything the engine knows about one link."""

    key: bytes
    outbound: bool
    since: float
    state: LinkState = LinkState.PENDING
    address: wire.PeerAddress | None = None  # dialable address, when known
    link_host: str | None = None  # remote host of an inbound link (port comes from Hello)
    name: str = ""
    last_seen: float = 0.0
    link_timer: Timer | None = None
    # Plumtree
    eager: bool = True  # we push to it (it has not pruned us)
    pruned: bool = False  # we asked it to stop pushing to us (sent Prune, no Graft since)
    last_prune: float = float("-inf")
    grafted: set[bytes] = field(default_factory=set)
    grafts_answered: int = 0  # grafted ids it then sent us
    grafts_broken: int = 0  # grafted ids it announced and did not send in time
    # statistics and scoring
    events_received: int = 0
    events_sent: int = 0
    events_new: int = 0  # events it sent that we did not have: how useful the link is
    useful_at: float = 0.0  # when it last sent us an event we did not have (or linked)
    # slots (see slots.py): its key is new this run and on probation until then; since when
    # bytes have waited on its link with little taken (the shell samples it), and how much
    probation_until: float = float("-inf")
    stalled_since: float | None = None
    stall_drained: int = 0
    rejected: int = 0
    pushes_verifying: int = 0
    # flood limits (see config): what it may push to us unasked, how many over that we
    # forgive, its messages of any kind, and what we push to it unasked
    push_allowance: TokenBucket = field(default_factory=lambda: _bucket(1.0))
    flood_tolerance: TokenBucket = field(
        default_factory=lambda: TokenBucket(c.PUSH_RATE, c.FLOOD_TOLERANCE)
    )
    message_allowance: TokenBucket = field(
        default_factory=lambda: TokenBucket(c.MESSAGE_RATE, c.MESSAGE_BURST)
    )
    send_allowance: TokenBucket = field(default_factory=lambda: _bucket(c.SEND_SHARE))
    # reconciliation it makes us do: messages of its sessions, and the seconds of work of
    # all its messages (config.reconcile_share; made at its first message), with the ones
    # waiting for that budget (at most one per direction: True for our sessions' replies)
    reconcile_allowance: TokenBucket = field(
        default_factory=lambda: TokenBucket(c.RECONCILE_RATE, c.RECONCILE_BURST)
    )
    reply_allowance: TokenBucket = field(
        default_factory=lambda: TokenBucket(c.RECONCILE_REPLY_RATE, c.RECONCILE_REPLY_BURST)
    )
    work_allowance: TokenBucket | None = None
    waiting: dict[bool, wire.Reconcile] = field(default_factory=dict)
    served: dict[bytes, int] = field(default_factory=dict)  # id -> times sent on request
    refused_repeats: int = 0  # requested ids not sent again (config.SERVE_REPEATS)
    throttled: int = 0  # pushes dropped for going over push_allowance
    resync: bool = False  # pushes to it did not fit send_allowance: reconcile soon
    # catch-up: ids to Want (queue), requested (asked: id -> batch), and being verified
    queue: deque[bytes] = field(default_factory=deque)
    queued: set[bytes] = field(default_factory=set)
    asked: dict[bytes, int] = field(default_factory=dict)
    batches: dict[int, WantBatch] = field(default_factory=dict)
    retries: dict[bytes, int] = field(default_factory=dict)
    verifying: int = 0
    truncated: bool = False  # the queue overflowed: a new session must find the rest
    fetched_new: bool = False  # the current backlog brought events new to us
    fetched_declined: bool = False  # the current backlog brought events we declined
    declined_only: bool = False  # the last backlog brought only declined events
    backlog: bool = False  # something was queued since the last time the queue drained
    finished_in: int = -1  # last responder session that ended (late messages are ignored)
    # reconciliation
    session_out: Session | None = None  # we initiate
    session_in: Session | None = None  # the peer initiates
    session_timer: Timer | None = None  # next session we start
    next_session: float = float("inf")
    clean: bool = False  # the last session found no difference
    reconciled_at: float = float("-inf")  # last Reconcile message from it
    dirty_streak: int = 0

    @property
    def announces_falsely(self) -> bool:
        """It announced events it then did not send, often enough to stop listening."""
        broken = self.grafts_broken
        return broken > c.LIAR_STRIKES and broken > self.grafts_answered

    @property
    def open(self) -> bool:
        return self.state is not LinkState.CLOSING

    @property
    def active(self) -> bool:
        return self.state is LinkState.ACTIVE

    @property
    def in_flight(self) -> int:
        return len(self.asked) + self.verifying

    @property
    def idle(self) -> bool:
        """No catch-up queued or outstanding."""
        return not self.queue and not self.asked and not self.verifying


def _bucket(share: float) -> TokenBucket:
    return TokenBucket(c.PUSH_RATE * share, c.PUSH_BURST * share)


class Shared:
    """The context every part of the engine works in; actions are collected in order."""

    __slots__ = (
        "_actions",
        "config",
        "declined",
        "familiar",
        "index",
        "name",
        "peers",
        "pending",
        "reply_allowance",
        "rng",
        "self_key",
        "timers",
        "work_allowance",
        "work_clock",
    )

    def __init__(
        self,
        *,
        self_key: bytes,
        index: ItemIndex,
        rng: random.Random,
        config: GossipConfig,
        name: str,
        work_clock: Callable[[], float] | None = None,
    ) -> None:
        self.self_key = self_key
        self.index = index
        self.rng = rng
        self.config = config
        self.name = name
        self.timers = Timers()
        self.familiar: frozenset[bytes] = frozenset()  # keys with history (set_familiar)
        # bytes of our replies in sessions peers start, all together (config.RECONCILE_REPLY_*)
        self.reply_allowance = TokenBucket(
            c.RECONCILE_REPLY_TOTAL_RATE, c.RECONCILE_REPLY_TOTAL_BURST
        )
        # seconds of reconciliation work for all peers together (reconcile_total_share),
        # timed on work_clock (None: work is not timed, only bounded per message)
        share = config.reconcile_total_share
        self.work_allowance = TokenBucket(share, share)
        self.work_clock = work_clock
        self.peers: dict[bytes, Peer] = {}
        self.pending: dict[bytes, Pending] = {}
        # ids the node chose not to store, oldest first (config.MAX_DECLINED)
        self.declined: dict[bytes, None] = {}
        self._actions: list[Action] = []

    def known(self, event_id: bytes) -> bool:
        """Stored, being verified, or declined: never fetch or verify it again."""
        return event_id in self.index or event_id in self.pending or event_id in self.declined

    def decline(self, event_id: bytes) -> None:
        """The node chose not to store this event: treat it as held, never serve it."""
        self.declined[event_id] = None
        if len(self.declined) > c.MAX_DECLINED:
            del self.declined[next(iter(self.declined))]

    def emit(self, action: Action) -> None:
        self._actions.append(action)

    def drain(self) -> list[Action]:
        actions, self._actions = self._actions, []
        return actions

    def send(self, peer: Peer, msg: wire.Message) -> None:
        if peer.open:
            data = wire.encode(msg)
            if len(data) > self.config.max_frame_bytes:  # the limits make this our bug
                raise LocalProtocolError(f"{type(msg).__name__} of {len(data)} bytes")
            self._actions.append(Send(peer.key, data))

    def send_frames(self, peer: Peer, frames: Sequence[bytes]) -> None:
        if peer.open:
            self._actions.extend(Send(peer.key, frame) for frame in frames)

    def close(self, peer: Peer, reason: str) -> None:
        """Ask the shell to close; state is dropped when it reports link_down."""
        if peer.open:
            peer.state = LinkState.CLOSING
            self.timers.cancel(peer.link_timer)
            self._actions.append(Close(peer.key, reason))

    def active_peers(self) -> list[Peer]:
        return [p for p in self.peers.values() if p.state is LinkState.ACTIVE]

    def open_links(self) -> int:
        return sum(1 for p in self.peers.values() if p.open)

    def jitter(self, interval: float) -> float:
        """An interval spread over +-25% so peers' timers do not line up."""
        return interval * (0.75 + 0.5 * self.rng.random())
