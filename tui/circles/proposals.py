"""What the study-circle screens pick and parse (the meeting to run, tags typed in a
field); the text they show is in peernode.circles.text, shared with the CLI. No widgets."""

from __future__ import annotations

from peernode.circles.model import CircleState, Meeting


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
