"""Admission by relationship: what strangers may make this node store (pure, no I/O).

Rules of this file:
- Events of familiar authors (see Node.familiar_authors: me, the members of my
  circles, peers linked with in an earlier run or named by the learner, authors
  held before this rule existed) are admitted, always; blocked authors never.
- Everyone else is a stranger: their events go through a budget per author,
  per sending peer and in total, counted in events and bytes per UTC day.
- A stranger's profile has its own small allowance per author, still counted
  in the per-peer and total budgets, so names show even after a flood.
- Only what is admitted is counted, so the counters are bounded by the total
  budget itself, and they start afresh each day. The total is saved by the
  node (a restart does not give strangers a fresh day); the others are not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from protocol import kinds
from protocol.event import Event

DAY_MS: Final = 86_400_000


@dataclass(frozen=True, slots=True)
class AdmissionConfig:
    """Daily budgets for strangers' events (see docs/security.md, "Admission").

    per_author_*: what one stranger may make this node store in a day.
    per_peer_*: what the events one link brings from strangers may add up to.
    total_*: all strangers together: the most this node stores from them a day.
    profiles_per_author: profile versions of a stranger admitted beside the above.
    """

    per_author_events: int = 300
    per_author_bytes: int = 4_000_000
    per_peer_events: int = 2_000
    per_peer_bytes: int = 20_000_000
    total_events: int = 5_000
    total_bytes: int = 50_000_000
    profiles_per_author: int = 3


@dataclass(frozen=True, slots=True)
class Admitted:
    """How a batch was sorted: what to store, and what was declined."""

    store: list[Event]
    declined: list[Event]


@dataclass(slots=True)
class _Spent:
    events: Counter[bytes] = field(default_factory=Counter)
    sizes: Counter[bytes] = field(default_factory=Counter)

    def fits(self, key: bytes, size: int, max_events: int, max_bytes: int) -> bool:
        return self.events[key] < max_events and self.sizes[key] + size <= max_bytes

    def add(self, key: bytes, size: int) -> None:
        self.events[key] += 1
        self.sizes[key] += size


_TOTAL: Final = b""  # the key the all-strangers counter is kept under


class StrangerBudget:
    """What strangers may still make this node store today."""

    def __init__(self, config: AdmissionConfig = AdmissionConfig()) -> None:
        self.config = config
        self._day = -1
        self._authors = _Spent()
        self._peers = _Spent()
        self._total = _Spent()
        self._profiles: Counter[bytes] = Counter()
        self.declined_today = 0

    def fits(self, author: bytes, kind: str, size: int, sender: bytes | None, now_ms: int) -> bool:
        """Whether a stranger's event of this author, kind and size fits today's budgets
        (nothing is taken: the counts only grow in a day, so one that does not fit now
        never will today)."""
        self._roll(now_ms // DAY_MS)
        cfg = self.config
        fits_peer = self._peers.fits(sender or b"", size, cfg.per_peer_events, cfg.per_peer_bytes)
        fits_total = self._total.fits(_TOTAL, size, cfg.total_events, cfg.total_bytes)
        if kind == kinds.PROFILE:
            fits_author = self._profiles[author] < cfg.profiles_per_author
        else:
            fits_author = self._authors.fits(
                author, size, cfg.per_author_events, cfg.per_author_bytes
            )
        return fits_peer and fits_total and fits_author

    def admit(self, event: Event, sender: bytes | None, now_ms: int) -> bool:
        """Take `event` of a stranger out of today's budgets, if it fits them all."""
        size, peer = len(event.raw), sender or b""
        if not self.fits(event.author, event.kind, size, sender, now_ms):
            self.declined_today += 1
            return False
        if event.kind == kinds.PROFILE:
            self._profiles[event.author] += 1
        else:
            self._authors.add(event.author, size)
        self._peers.add(peer, size)
        self._total.add(_TOTAL, size)
        return True

    def spent(self) -> tuple[int, int]:
        """(events, bytes) admitted from strangers today."""
        return self._total.events[_TOTAL], self._total.sizes[_TOTAL]

    def save(self) -> str:
        """Today's total as text, so a restart does not give strangers a fresh day."""
        events, size = self.spent()
        return f"{self._day} {events} {size}"

    def restore(self, saved: str, now_ms: int) -> None:
        """Take back a total save() wrote, if it is of today (anything else is ignored)."""
        try:
            day, events, size = (int(part) for part in saved.split())
        except ValueError:
            return
        self._roll(now_ms // DAY_MS)
        if day == self._day and events >= 0 and size >= 0:
            self._total.events[_TOTAL], self._total.sizes[_TOTAL] = events, size

    def _roll(self, day: int) -> None:
        if day != self._day:
            self._day = day
            self._authors, self._peers, self._total = _Spent(), _Spent(), _Spent()
            self._profiles.clear()
            self.declined_today = 0


def sort_batch(
    events: Iterable[Event],
    *,
    sender: bytes | None,
    familiar: Callable[[bytes], bool],
    blocked: Callable[[bytes], bool],
    budget: StrangerBudget,
    now_ms: int,
) -> Admitted:
    """Split verified events into those to store and those declined.

    Profiles are judged first, so a stranger's name shows even when the batch
    also carries more of its events than its budget takes."""
    batch = list(events)
    admitted: set[bytes] = set()
    for event in sorted(batch, key=lambda event: event.kind != kinds.PROFILE):
        if blocked(event.author):
            continue
        if familiar(event.author) or budget.admit(event, sender, now_ms):
            admitted.add(event.id)
    return Admitted(
        [event for event in batch if event.id in admitted],
        [event for event in batch if event.id not in admitted],
    )
