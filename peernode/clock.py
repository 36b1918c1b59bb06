"""Wall-clock time in the protocol's unit, and how far a node trusts an author's clock.

An event's created_at is the author's claim; received_at is when this node stored
it, by its own clock. Lists are ordered, and times shown, by `shown_at`:

- a claim after received_at is pulled back to received_at (nothing sits on top of
  a feed by claiming a future; your own events have received_at = when you wrote
  them, so they keep their time);
- a claim before UNSET_CLOCK_BEFORE is taken for a clock that was never set and
  replaced by received_at;
- any other claim is kept, so events caught up from a peer days later, and notes
  imported with their old dates, keep their real past time.

Ties in shown_at (a batch stored at once) fall back to (created_at, id): the
author's own order. This is display order only: what every node must agree on
(the reconciliation set, which version of a profile or circle is newest) keeps
(created_at, id), see docs/protocol.md, "Timestamps".
"""

from __future__ import annotations

import time
from typing import Final, Literal

UNSET_CLOCK_BEFORE: Final = 946_684_800_000
"""2000-01-01T00:00:00Z. Earlier claims come from clocks that lost their setting
(the Unix epoch 1970, the FAT epoch 1980), not from study notes."""

AHEAD_MARK_AFTER_MS: Final = 5 * 60_000
"""A claim this far past received_at is marked "clock ahead"; smaller drifts are
pulled back silently (they only ever move a note by a few minutes)."""

ClockMark = Literal["ahead", "unset"]

MARK_TEXT: Final[dict[ClockMark, str]] = {"ahead": "clock ahead", "unset": "clock not set"}
"""How a mark is written next to the time shown (CLI and TUI)."""

ShownKey = tuple[int, int, bytes]
"""Where an event sits in a list: (shown_at, created_at, id). Also a feed's cursor."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def shown_at(created_at: int, received_at: int) -> int:
    """The time to order by and show: the claim, bounded by when it got here."""
    if created_at < UNSET_CLOCK_BEFORE:
        return received_at
    return min(created_at, received_at)


def clock_mark(created_at: int, shown: int) -> ClockMark | None:
    """What to tell the reader about the author's clock, given the event's shown_at."""
    if created_at < UNSET_CLOCK_BEFORE:
        return "unset"
    if created_at - shown > AHEAD_MARK_AFTER_MS:
        return "ahead"
    return None
