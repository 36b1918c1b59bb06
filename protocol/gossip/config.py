"""Tunables of the gossip engine and the fixed bounds behind them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from protocol.errors import LocalProtocolError
from protocol.handshake import DEFAULT_MAX_FRAME_BYTES
from protocol.wire import MAX_DECODE_BYTES, MAX_IDS, MIN_FRAME_BYTES

ACTIVE_WALK: Final = 6
"""HyParView ARWL: hops a ForwardJoin or Shuffle travels."""
PASSIVE_WALK: Final = 3
"""HyParView PRWL: the hop count at which a ForwardJoin also lands in the passive view."""
SHUFFLE_ACTIVE: Final = 3
SHUFFLE_PASSIVE: Final = 4
ROTATE_PROBABILITY: Final = 0.5
"""Chance per shuffle tick that a node with enough links dials one more random peer and then
drops a random old link: keeps the overlay random and re-links the halves of a healed partition."""
REFUSAL_HINTS: Final = 8
"""Addresses sent in a ShuffleReply before refusing a link, so a refused joiner can go on."""

LINK_TIMEOUT: Final = 10.0
"""A link that has not become active (Join/Neighbor and NeighborReply) by then is closed."""
DIAL_TIMEOUT: Final = 30.0
MAX_DIALS: Final = 2
"""Dials in progress at once: links that come in meanwhile may make the rest unnecessary,
and when a whole room starts together this avoids most refusals."""
MAINTAIN_RETRY: Final = 5.0
BACKOFF_BASE: Final = 2.0
BACKOFF_MAX: Final = 120.0
MAX_BACKOFF_ENTRIES: Final = 1024
MAX_MANUAL: Final = 64
PENALTY: Final = 300.0
"""A peer closed for a protocol fault or invalid events is neither dialed nor accepted for this
long (seconds)."""
MAX_PENALTIES: Final = 1024
"""Keys kept away, and hosts barred for fresh keys (slots.py), at once; oldest forgotten."""
MAX_SEEN: Final = 4096
"""Keys remembered as past their probation in this run (slots.py); oldest forgotten."""

SESSION_TIMEOUT: Final = 30.0
"""A reconciliation session with no message for this long is dropped."""
RESYNC_DELAY: Final = 2.0
"""After a session that found differences, the next one comes this soon (doubling while dirty)."""
CASCADE_DELAY: Final = 1.0
"""After catching up from one peer, reconcile with the others this soon (they may lack it too)."""
PUSH_HAVE_MAX: Final = 64
"""Reconciliation `have` up to this many ids is pushed as events; more is sent as Offer."""
MAX_QUEUED: Final = 1 << 17
"""Ids waiting to be wanted from one peer; more are dropped and found by the next session."""
WANT_RETRIES: Final = 2

MAX_MISSING: Final = 8192
"""Ids announced by IHave and awaited at once. When full, a new announcement takes the
place of the oldest one of the peer holding the most, so one peer (or a few) cannot keep
the others' announcements out."""
LIAR_STRIKES: Final = 32
"""Grafts a peer left unanswered, beyond those it answered, after which its IHaves are
ignored for the rest of the link (reconciliation still finds whatever it really has)."""
GRAFT_TRIES: Final = 4
MAX_DECLINED: Final = 65_536
"""Ids the node chose not to store (a stranger over its budget, a blocked author), kept so
they are neither fetched nor verified again; the oldest are forgotten first (fetched once
more, and declined again)."""
DECLINED_PROBE: Final = 256
"""Ids wanted from a peer per session once a whole backlog from it was declined (strangers'
events only): a trickle that finds out whether it has anything else, instead of fetching
and verifying again everything the declined set had to forget."""
STRANGER_WINDOW: Final = 128
"""Ids wanted at once from a peer without history (not in GossipEngine.set_familiar)
while a peer with history still has ids to fetch: ids carry no author, so the peer that
offers them stands for their authors, and strangers' events come last, at a trickle."""
MAX_PUSH_VERIFYING: Final = 8192
"""Unrequested events from one peer awaiting verification; more are dropped unverified."""
VERIFY_TIMEOUT: Final = 60.0
"""An id handed out for verification and never reported back is forgotten after this."""
PRUNE_REPEAT: Final = 5.0
RECONCILE_PUSH_WINDOW: Final = 2.0
"""Events arriving this soon after a Reconcile message from their sender may be its session's
push of a small difference: a duplicate among them does not prune the link."""
MAX_REJECTED: Final = 8
"""Invalid events a peer may send before it is closed."""

# Flood limits. A room's learners post a few events a minute each; bulk transfers (catch-up,
# an import) go by reconciliation, where the receiver asks at its own pace. So only what a
# peer sends unasked is limited, and honest senders keep below the limit themselves.
PUSH_RATE: Final = 100.0
"""Unrequested events per second a peer may push to us, sustained."""
PUSH_BURST: Final = 1000
"""Unrequested events a peer may push at once after a quiet time; beyond, they are dropped
unverified (an honest one's are found by the next reconciliation)."""
FLOOD_TOLERANCE: Final = 1000
"""Dropped pushes (forgiven at PUSH_RATE per second) after which the peer is closed and
penalized as a flooder."""
SEND_SHARE: Final = 0.8
"""We push to a peer at most this share of PUSH_RATE and PUSH_BURST (room for clock and
delivery jitter); what does not fit goes by reconciliation, started soon."""
URGENT_PUSH_FRAMES: Final = 64
"""A push needing more frames than this (an import of large events) goes the bulk way,
behind fresh events and paced by the link, instead of filling the link's urgent queue
(512 frames) and closing it as too slow."""
MESSAGE_RATE: Final = 1000.0
"""Messages of any type per second a peer may send us, sustained (catch-up at full speed
takes a few dozen); more closes the link."""
MESSAGE_BURST: Final = 5000
SERVE_REPEATS: Final = 1 + WANT_RETRIES
"""Times one link gets the same event in answer to its Want or Graft: once, and again for
each re-request of a Want that seemed lost. Beyond, asking again gets nothing, so what a
peer's requests make us send is at most this many times our store per link (before, the
same 1,000 large events asked for over and over sent 51.5 GB for 28.6 MB of requests)."""
MAX_SERVED_TRACKED: Final = 1 << 16
"""Ids remembered per link for SERVE_REPEATS, oldest forgotten first (about 6 MB)."""
RECONCILE_RATE: Final = 50.0
"""Reconciliation messages per second a peer may send us in sessions it started,
sustained. An honest initiator waits for each reply, and even a catch-up of a million
events takes a few hundred messages; more closes the link."""
RECONCILE_BURST: Final = 500
RECONCILE_REPLY_RATE: Final = 250_000.0
"""Bytes per second of our replies in reconciliation sessions one peer starts, sustained.
Before, 50 replies/s of up to 63 KiB each let any peer make us send 3.2 MB/s (with 741-byte
messages: x85). Past it our replies shrink (down to 256 bytes), which costs rounds only."""
RECONCILE_REPLY_BURST: Final = 4_000_000
"""Reply bytes at once: the ids of a catch-up of 125,000 events, shipped in one session."""
RECONCILE_REPLY_TOTAL_RATE: Final = 1_000_000.0
"""The same for all peers together."""
RECONCILE_REPLY_TOTAL_BURST: Final = 8_000_000
RECONCILE_SHARE: Final = 0.1
"""Seconds of work per second spent on one peer's reconciliation messages (answering its
sessions and the replies to ours): a tenth of the event loop, timed on the shell's work
clock, so on a busy machine it buys less. Beyond, its next message waits its turn."""
RECONCILE_TOTAL_SHARE: Final = 0.3
"""The same for all peers together, so many links cannot add up to a busy loop: the rest
is left for pushes, the store and the learner's own posts."""
RECONCILE_SLICE: Final = 0.02
"""Longest search for single extra items in one message (s): beyond, its ranges are split
instead, which costs rounds only."""
DIAL_RATE: Final = 1.0
"""Dials started per second, sustained: a flood of fake announcements cannot make us dial
faster than this."""
DIAL_BURST: Final = 5
"""Dials that may start at once (a whole room found together)."""


@dataclass(frozen=True, slots=True)
class GossipConfig:
    """The engine's tunables. Every interval and timeout (seconds) is one of them, with
    the production default, so a test can run a whole swarm on short timers; the module
    constants of the same name document those defaults."""

    max_links: int = 8  # active view upper bound: never more open links than this
    target_links: int = 5  # try to keep at least this many
    passive_view: int = 64
    shuffle_interval: float = 30.0
    reconcile_interval: float = 60.0  # anti-entropy with each linked peer, jittered
    ihave_timeout: float = 1.0  # Plumtree: graft if the payload does not arrive
    want_window: int = 2000  # ids requested and not yet stored, per peer
    event_cache: int = 10_000  # recent raw events kept to answer Want/Graft without the store
    want_timeout: float = 10.0  # re-request ids not delivered by then
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES  # largest message the link carries
    # Links to one host (address) at once, either way; loopback is exempt (several nodes on
    # one machine are the owner's). Many identities on one laptop get no more links than this.
    max_links_per_host: int = 2
    # Slots strangers' inbound links may not take while peers we know are not linked (see
    # Membership.link_up): an attacker holding every slot cannot keep a known peer out.
    reserved_links: int = 3
    # Slots that cannot be taken (see protocol/gossip/slots.py and docs/security.md):
    # strangers' inbound links hold at most stranger_links slots whatever the familiar peers
    # do; a key new this run may not take the last fresh_headroom slots (at most
    # max_links - target_links of them), and for its first `probation` seconds it may push
    # only probation_push_burst events at once. A link that brought no new event for
    # idle_window, or whose bytes waited stall_grace while it took less than
    # stall_progress_bytes, gives its slot to a link that wants one; past stall_limit it is
    # closed.
    stranger_links: int = 5
    fresh_headroom: int = 2
    probation: float = 60.0
    probation_push_burst: int = 100
    idle_window: float = 120.0
    stall_grace: float = 5.0
    stall_limit: float = 30.0
    stall_progress_bytes: int = 16_384
    # Reconciliation work (timed on the engine's work_clock): a share of each second per
    # peer and for all peers, and the longest search for one message.
    reconcile_share: float = RECONCILE_SHARE
    reconcile_total_share: float = RECONCILE_TOTAL_SHARE
    reconcile_slice: float = RECONCILE_SLICE
    link_timeout: float = LINK_TIMEOUT
    dial_timeout: float = DIAL_TIMEOUT
    maintain_retry: float = MAINTAIN_RETRY
    backoff_max: float = BACKOFF_MAX
    penalty: float = PENALTY
    session_timeout: float = SESSION_TIMEOUT
    resync_delay: float = RESYNC_DELAY
    cascade_delay: float = CASCADE_DELAY
    verify_timeout: float = VERIFY_TIMEOUT
    prune_repeat: float = PRUNE_REPEAT
    reconcile_push_window: float = RECONCILE_PUSH_WINDOW

    def __post_init__(self) -> None:
        if not 1 <= self.target_links <= self.max_links:
            raise LocalProtocolError("need 1 <= target_links <= max_links")
        if self.max_links_per_host < 1:
            raise LocalProtocolError("max_links_per_host must be >= 1")
        if self.reserved_links < 0 or self.fresh_headroom < 0 or self.stranger_links < 1:
            raise LocalProtocolError(
                "need reserved_links >= 0, fresh_headroom >= 0 and stranger_links >= 1"
            )
        if not 1 <= self.probation_push_burst <= PUSH_BURST:
            raise LocalProtocolError(f"probation_push_burst must be in 1..{PUSH_BURST}")
        if not 0 < self.stall_grace <= self.stall_limit or self.stall_progress_bytes < 1:
            raise LocalProtocolError(
                "need 0 < stall_grace <= stall_limit, stall_progress_bytes >= 1"
            )
        if not 0 < self.reconcile_share <= self.reconcile_total_share <= 1:
            raise LocalProtocolError("need 0 < reconcile_share <= reconcile_total_share <= 1")
        if self.reconcile_slice < 0:
            raise LocalProtocolError("reconcile_slice must be >= 0")
        if self.passive_view < 1 or self.event_cache < 0:
            raise LocalProtocolError("passive_view must be >= 1 and event_cache >= 0")
        if not 1 <= self.want_window <= 64 * MAX_IDS:
            raise LocalProtocolError(f"want_window must be in 1..{64 * MAX_IDS}")
        if not MIN_FRAME_BYTES <= self.max_frame_bytes <= MAX_DECODE_BYTES:
            raise LocalProtocolError(
                f"max_frame_bytes must be in {MIN_FRAME_BYTES}..{MAX_DECODE_BYTES}"
            )
        intervals = (
            self.shuffle_interval,
            self.reconcile_interval,
            self.ihave_timeout,
            self.want_timeout,
            self.link_timeout,
            self.dial_timeout,
            self.maintain_retry,
            self.backoff_max,
            self.session_timeout,
            self.resync_delay,
            self.cascade_delay,
            self.verify_timeout,
            self.idle_window,
        )
        if min(intervals) <= 0:
            raise LocalProtocolError("intervals and timeouts must be positive")
        if min(self.penalty, self.prune_repeat, self.reconcile_push_window, self.probation) < 0:
            raise LocalProtocolError(
                "penalty, prune_repeat, the push window and probation must be >= 0"
            )
