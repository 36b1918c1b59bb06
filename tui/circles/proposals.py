"""What the study-circle screens propose and parse (next start, tags typed in a field);
the text they show is in peernode.circles.text, shared with the CLI. No widgets."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from peernode.circles.model import CircleState, Meeting

STEP_DAYS: Final = {"weekly": 7, "biweekly": 14, "monthly": 28}


def suggested_start(state: CircleState, now: int) -> int:
    """When the next meeting might be: the last one plus the circle's rhythm (kept in the
    future), else tomorrow at 18:00."""
    step = STEP_DAYS.get(state.rhythm.cadence if state.rhythm else "weekly", 7)
    if state.meetings:
        moment = datetime.fromtimestamp(state.meetings[-1].starts_at / 1000)
        while moment.timestamp() * 1000 <= now:
            moment += timedelta(days=step)
        return int(moment.timestamp() * 1000)
    tomorrow = datetime.fromtimestamp(now / 1000) + timedelta(days=1)
    return int(tomorrow.replace(hour=18, minute=0, second=0, microsecond=0).timestamp() * 1000)


def current_meeting(state: CircleState, now: int) -> Meeting | None:
    """The meeting to run now: the one in progress or the next, else the latest one."""
    return state.next_meeting(now) or (state.meetings[-1] if state.meetings else None)


def split_tags(text: str) -> list[str]:
    """'joins, SQL  basics' → ['joins', 'SQL basics']: comma-separated, blanks dropped."""
    seen: dict[str, None] = {}
    for part in text.split(","):
        tag = " ".join(part.split())
        if tag:
            seen.setdefault(tag, None)
    return list(seen)
