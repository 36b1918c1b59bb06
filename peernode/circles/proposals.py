"""What the schedule form proposes for a circle's next meeting: when, and what carries over.

Rules of this file (pure: a CircleState and `now` in, a proposal out):
- A meeting on now, ahead, or ended less than RECENT_MS ago means the facilitator
  plans the one after it: the latest meeting's time plus the rhythm's step, moved
  on by steps until it is in the future ("rhythm").
- Otherwise nobody is meeting: the rhythm's slot if it comes within SOON_MS
  ("rhythm"), else now rounded down to ROUND_MS, for people gathered to start at
  once ("now"): the meeting is on as soon as it is shared.
- Place and agenda carry over from the latest meeting; the length is the rhythm's,
  else the latest meeting's, else the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from peernode.circles.model import (
    DEFAULT_MEETING_MINUTES,
    MINUTE_MS,
    Agenda,
    CircleState,
    Meeting,
)

STEP_DAYS: Final = {"weekly": 7, "biweekly": 14, "monthly": 28}
"""Days between meetings for each cadence; any other cadence steps a week."""
RECENT_MS: Final = 2 * 60 * MINUTE_MS
"""A meeting that ended this recently is still the one people plan the next from."""
SOON_MS: Final = 60 * MINUTE_MS
"""A rhythm slot this close is the meeting people are gathering for."""
ROUND_MS: Final = 5 * MINUTE_MS
"""'Now' is rounded down to five minutes (18:58 → 18:55)."""


@dataclass(frozen=True, slots=True)
class MeetingProposal:
    """A meeting as the form proposes it; `basis` says why it starts then."""

    starts_at: int
    duration_minutes: int
    place: str
    agenda: Agenda
    basis: Literal["now", "rhythm"]


def propose_meeting(state: CircleState, now: int) -> MeetingProposal:
    """The next meeting of `state` as the schedule form proposes it at `now` (ms)."""
    latest = state.meetings[-1] if state.meetings else None
    rhythm = state.rhythm
    duration = (rhythm.duration_minutes if rhythm else None) or (
        latest.duration_minutes if latest else DEFAULT_MEETING_MINUTES
    )
    starts_at: int = round_now(now)
    basis: Literal["now", "rhythm"] = "now"
    if latest is not None:
        slot = next_slot(latest, state, now)
        if latest.ends_at + RECENT_MS > now or slot - now <= SOON_MS:
            starts_at, basis = slot, "rhythm"
    return MeetingProposal(
        starts_at=starts_at,
        duration_minutes=duration,
        place=latest.place if latest else "",
        agenda=latest.agenda if latest else Agenda(),
        basis=basis,
    )


def next_slot(latest: Meeting, state: CircleState, now: int) -> int:
    """`latest`'s start plus the rhythm's step (in local wall-clock days), until after `now`."""
    step = timedelta(days=STEP_DAYS.get(state.rhythm.cadence if state.rhythm else "weekly", 7))
    moment = datetime.fromtimestamp(latest.starts_at / 1000) + step
    while moment.timestamp() * 1000 <= now:
        moment += step
    return int(moment.timestamp() * 1000)


def round_now(now: int) -> int:
    """`now` rounded down to ROUND_MS."""
    return now // ROUND_MS * ROUND_MS
