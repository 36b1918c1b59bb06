"""What the feed shows of each event, and which events a person wants to read: one text
for the TUI's feed and `peernode feed`.

Notes show their text; study-circle events read as sentences and cards
(peernode.circles.feed_text); a kind this version does not know keeps one honest
line. RSVPs and attendance are folded into their meeting's card rather than shown
as rows of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from peernode.circles.feed_text import CircleView, show_circle_event
from peernode.circles.model import CircleState
from peernode.files.text import file_shown
from peernode.text import NameOf, Shown
from peernode.views import FeedEntry
from protocol import kinds

FOLDED_KINDS: Final = frozenset({kinds.RSVP, kinds.ATTENDANCE})
"""Shown inside their meeting's card ("Ana and Bo were there"), not as rows."""

QUIET_KINDS: Final = frozenset(
    {kinds.RSVP, kinds.ATTENDANCE, kinds.CHECKIN, kinds.RESOLVED, kinds.PROFILE, kinds.EDIT}
    | {kinds.DELETE}
)
"""Bookkeeping: shown, but never counted as something new to read."""

PARENT_REFS: Final = {kinds.NOTE: "reply_to", kinds.ANSWER: "question", kinds.RESOLVED: "question"}
"""The ref that puts an event under another in a thread: a reply under its note, an
answer and a resolution under their question."""


@dataclass(frozen=True, slots=True)
class FeedContext:
    """What the feed is shown with: names, and the state of the circles it shows."""

    name_of: NameOf
    circles: Mapping[str, CircleState] = field(default_factory=dict)


def show_entry(entry: FeedEntry, context: FeedContext, *, threaded: bool = False) -> Shown:
    """What a person reads of `entry` (`threaded`: it is shown under its parent)."""
    event = entry.event
    if entry.deleted:
        return Shown("(deleted by its author)")
    if not entry.known:
        return Shown(f"[{event.kind}] not understood by this version (kept and passed on)")
    body = entry.body
    if event.kind == kinds.NOTE:
        text = body.get("text")
        return Shown(text=str(text or ""), plain=body.get("format") == "plain")
    if event.kind == kinds.PROFILE:
        return _profile(entry, context.name_of)
    if event.kind == kinds.FILE:
        return file_shown(event, context.name_of)
    view = CircleView(context.circles.get(event.circle), context.name_of, threaded)
    shown = show_circle_event(event, body, view)
    if shown is not None:
        return shown
    return Shown(f"{context.name_of(event.author)} changed an earlier event")


def _profile(entry: FeedEntry, name_of: NameOf) -> Shown:
    body = entry.body
    details = [
        f"{label}: {' '.join(str(body[field]).split())}"
        for label, field in (("Learning", "learning"), ("Can help with", "can_help"))
        if str(body.get(field) or "").strip()
    ]
    return Shown(f"{name_of(entry.event.author)} updated their profile", tuple(details))


def parent_of(entry: FeedEntry) -> bytes | None:
    """The event `entry` is shown under in a thread (the note it replies to, the question
    it answers or resolves), or None."""
    ref = PARENT_REFS.get(entry.event.kind)
    return None if ref is None else entry.event.refs.get(ref)


def folded(entry: FeedEntry) -> bool:
    """Shown in another event's card, not as a row of its own."""
    return entry.event.kind in FOLDED_KINDS


def worth_reading(entry: FeedEntry, me: bytes | None) -> bool:
    """Counts as new: someone else's note, question, answer, meeting, resource, …
    (never my own events, nor RSVPs, attendance, check-ins and other bookkeeping)."""
    return entry.event.author != me and entry.event.kind not in QUIET_KINDS


def reply_hint(entry: FeedEntry) -> str | None:
    """Why `entry` cannot be replied to in the feed, or None when it can (a note, or a
    question: replying answers it)."""
    if entry.deleted:
        return "This was deleted by its author: there is nothing to reply to."
    kind = entry.event.kind
    if kind in (kinds.NOTE, kinds.QUESTION):
        return None
    if kind == kinds.ANSWER:
        return "Reply to the question above it to add an answer of your own."
    return "Only notes and questions take replies here: write a new note below instead."


QUESTION_KIND: Final = kinds.QUESTION
"""A reply to a question in the feed is published as an answer to it, not as a note."""
ANSWER_KIND: Final = kinds.ANSWER
