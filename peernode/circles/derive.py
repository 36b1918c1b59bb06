"""A study circle's state, folded from its signed events: pure functions, no I/O.

Rules of this file:
- Everything here is computed from a set of events, never from the order they
  arrived in: two nodes holding the same events derive the same state.
- Order is (created_at, id), the author's claim with the id to break ties: it
  decides what counts (the newest version, join, rsvp or resolution).
- Lists shown to people (questions, answers, check-ins, plus/deltas, shared
  resources) are in display order, (shown_at, created_at, id), where shown_at is
  this node's bound on the claim (peernode.clock) passed in as `shown`; their
  `shown_at` is the time to show. Without `shown`, the claims are taken as they are.
- Edits and deletes count only when their author wrote the target; a deleted
  event disappears from every view (the delete itself stays, a tombstone, so
  the target never comes back through sync).
- Events that refer to something missing (a check-in of an unknown meeting,
  an answer to a deleted question) are left out until the target arrives.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from peernode.circles.bodies import text_field
from peernode.circles.model import (
    DEFAULT_MEETING_MINUTES,
    Activity,
    Agenda,
    Answer,
    CheckIn,
    CircleState,
    CircleSummary,
    CircleVersion,
    Meeting,
    Member,
    PlusDelta,
    Question,
    ResourceLink,
    Rhythm,
    Rsvp,
    SharedResource,
)
from peernode.circles.versions import current_version
from protocol import kinds
from protocol.errors import InvalidEvent
from protocol.event import Event

EDITABLE_KINDS: Final = frozenset(
    {
        kinds.NOTE,
        kinds.RESOURCE,
        kinds.MEETING,
        kinds.CHECKIN,
        kinds.PLUSDELTA,
        kinds.QUESTION,
        kinds.ANSWER,
    }
)
"""Kinds an edit may change. Circles change by newer circle events, answers to a
meeting (rsvp) by a newer rsvp; joins, attendance and resolutions are deleted,
not edited."""


def order(event: Event) -> tuple[int, bytes]:
    """Consensus order: every node holding the same events agrees on it."""
    return (event.created_at, event.id)


@dataclass(slots=True)
class Live:
    """The events of one circle after deletes and edits, with their current bodies.

    shown: this node's display time of events by id (see peernode.clock); an
    event not in it is shown at its claim.
    """

    events: list[Event]
    deleted: frozenset[bytes]
    bodies: dict[bytes, Mapping[str, Any]]
    shown: Mapping[bytes, int] = field(default_factory=dict)

    def of(self, kind: str) -> list[Event]:
        return [event for event in self.events if event.kind == kind]

    def body(self, event: Event) -> Mapping[str, Any]:
        return self.bodies.get(event.id, event.body)

    def shown_at(self, event: Event) -> int:
        return self.shown.get(event.id, event.created_at)

    def display_order(self, event: Event) -> tuple[int, int, bytes]:
        return (self.shown_at(event), event.created_at, event.id)


def derive_state(
    slug: str, events: Iterable[Event], *, shown: Mapping[bytes, int] | None = None
) -> CircleState:
    """The state of circle `slug` from any set of events (others are ignored).

    shown: the display time of events by id (peernode.clock.shown_at); it orders
    the lists and never changes what counts.
    """
    live = apply_edits_and_deletes(
        sorted(
            (event for event in events if event.circle == slug),
            key=order,
        )
    )
    live.shown = shown or {}
    history = tuple(_version(event) for event in live.of(kinds.CIRCLE))
    current = current_version(history)
    return CircleState(
        slug=slug,
        history=history,
        members=_members(live, history),
        meetings=_meetings(live),
        questions=_questions(live),
        shared_resources=tuple(
            _resource(event, live.body(event), live.shown_at(event))
            for event in sorted(live.of(kinds.RESOURCE), key=live.display_order)
        ),
        deleted=live.deleted,
        bodies={event_id: dict(body) for event_id, body in live.bodies.items()},
        current_id=current.id if current else None,
    )


def summarize(state: CircleState, me: bytes | None) -> CircleSummary:
    """The line of `peernode circle list` for `state`; `me` marks circles I am in."""
    current = state.current
    return CircleSummary(
        slug=state.slug,
        title=state.title,
        topic=state.topic,
        members=len(state.members),
        member=me is not None and state.is_member(me),
        updated_at=current.created_at if current else 0,
    )


def apply_edits_and_deletes(events: list[Event]) -> Live:
    """`events` (in consensus order) without the deleted ones, edits and deletes, and
    the current body of every edited event: only an event's author edits or deletes it."""
    by_id = {event.id: event for event in events}

    def own_target(event: Event) -> Event | None:
        target = by_id.get(event.refs["target"])
        if target is None or target.author != event.author:
            return None
        return target

    deleted = frozenset(
        target.id
        for event in events
        if event.kind == kinds.DELETE
        and (target := own_target(event)) is not None
        and target.kind != kinds.DELETE
    )
    bodies: dict[bytes, Mapping[str, Any]] = {}
    for event in events:
        if event.kind != kinds.EDIT or event.id in deleted:
            continue
        target = own_target(event)
        if target is None or target.id in deleted:
            continue
        current = bodies.get(target.id, target.body)
        with contextlib.suppress(NotEditable, InvalidEvent):  # such an edit counts for nothing
            bodies[target.id] = edited_body(target.kind, current, event.body)
    kept = [
        event
        for event in events
        if event.id not in deleted and event.kind not in (kinds.EDIT, kinds.DELETE)
    ]
    return Live(events=kept, deleted=deleted, bodies=bodies)


class NotEditable(ValueError):
    """The target of an edit is of a kind that is replaced or deleted, never edited."""


def edited_body(
    kind: str, current: Mapping[str, Any], changes: Mapping[str, Any]
) -> dict[str, Any]:
    """The body of an event of `kind` after an edit: `current` (its body as edited so
    far) with `changes` merged in, a None value removing an optional field.

    Raises NotEditable when `kind` is not in EDITABLE_KINDS, and InvalidEvent when
    the result breaks the kind's rules: every node then ignores the edit.
    """
    if kind not in EDITABLE_KINDS:
        raise NotEditable(f"{kind} events cannot be edited")
    merged = {name: value for name, value in {**current, **changes}.items() if value is not None}
    spec = kinds.spec_of(kind)
    if spec is None:
        raise InvalidEvent("kind", f"{kind} is not a kind this node knows")
    spec.check_body(merged)
    return merged


def version_from(event: Event) -> CircleVersion:
    """The circle version a circle event describes."""
    return _version(event)


def _version(event: Event) -> CircleVersion:
    body = event.body
    rhythm = body.get("rhythm")
    return CircleVersion(
        id=event.id,
        author=event.author,
        created_at=event.created_at,
        title=text_field(body, "name"),
        topic=text_field(body, "topic"),
        description=text_field(body, "description"),
        resources=tuple(
            ResourceLink(
                text_field(item, "url"), text_field(item, "title"), text_field(item, "licence")
            )
            for item in body.get("resources") or []
        ),
        rhythm=None
        if rhythm is None
        else Rhythm(
            cadence=str(rhythm.get("cadence") or "weekly"),
            duration_minutes=rhythm.get("duration_minutes"),
            weeks=rhythm.get("weeks"),
        ),
        language=text_field(body, "language"),
        updates=event.refs.get("updates"),
    )


def _members(live: Live, history: tuple[CircleVersion, ...]) -> tuple[Member, ...]:
    latest: dict[bytes, tuple[tuple[int, bytes], bool, str]] = {}
    # Every author of a version that replaces none joins by creating it, not only the author
    # of the oldest: a backdated "creation" by someone else must not drop the real creator.
    for version in history:
        key = (version.created_at, version.id)
        if version.updates is None and key > latest.get(version.author, ((-1, b""),))[0]:
            latest[version.author] = (key, True, "")
    for event in live.events:
        if event.kind in (kinds.JOIN, kinds.LEAVE):
            key = order(event)
            known = latest.get(event.author)
            if known is None or key > known[0]:
                message = text_field(live.body(event), "message")
                latest[event.author] = (key, event.kind == kinds.JOIN, message)
    members = [
        Member(key=author, since=when[0], message=message)
        for author, (when, joined, message) in latest.items()
        if joined
    ]
    return tuple(sorted(members, key=lambda member: (member.since, member.key)))


def _meetings(live: Live) -> tuple[Meeting, ...]:
    meetings = {event.id: event for event in live.of(kinds.MEETING)}
    rsvps: dict[bytes, dict[bytes, Rsvp]] = {}
    signed_attendance: dict[bytes, dict[bytes, None]] = {}
    checkins: dict[bytes, list[CheckIn]] = {}
    plusdeltas: dict[bytes, list[PlusDelta]] = {}
    for event in live.events:  # in (created_at, id) order, so later rsvps replace earlier
        meeting_id = event.refs.get("meeting")
        if meeting_id is None or meeting_id not in meetings:
            continue
        body = live.body(event)
        if event.kind == kinds.RSVP:
            rsvps.setdefault(meeting_id, {})[event.author] = Rsvp(
                event.author, text_field(body, "answer"), event.created_at
            )
        elif event.kind == kinds.ATTENDANCE:
            signed_attendance.setdefault(meeting_id, {})[event.author] = None
        elif event.kind == kinds.CHECKIN:
            checkins.setdefault(meeting_id, []).append(
                CheckIn(
                    event.id,
                    event.author,
                    event.created_at,
                    live.shown_at(event),
                    feeling=text_field(body, "feeling"),
                    working_on=text_field(body, "working_on"),
                    need_help=text_field(body, "need_help"),
                )
            )
        elif event.kind == kinds.PLUSDELTA:
            plusdeltas.setdefault(meeting_id, []).append(
                PlusDelta(
                    event.id,
                    event.author,
                    event.created_at,
                    live.shown_at(event),
                    plus=text_field(body, "plus"),
                    delta=text_field(body, "delta"),
                )
            )
    result = [
        _meeting(
            event,
            live.body(event),
            rsvps=tuple(rsvps.get(event.id, {}).values()),
            signed_attendance=tuple(signed_attendance.get(event.id, {})),
            checkins=tuple(sorted(checkins.get(event.id, []), key=_display_order)),
            plusdeltas=tuple(sorted(plusdeltas.get(event.id, []), key=_display_order)),
        )
        for event in meetings.values()
    ]
    return tuple(sorted(result, key=lambda meeting: (meeting.starts_at, meeting.id)))


def _display_order(item: CheckIn | PlusDelta | Answer) -> tuple[int, int, bytes]:
    return (item.shown_at, item.created_at, item.id)


def meeting_from(event: Event, body: Mapping[str, Any]) -> Meeting:
    """The meeting `event` schedules (with `body`, its current body), before anyone signed."""
    return _meeting(event, body)


def _meeting(event: Event, body: Mapping[str, Any], **signed: Any) -> Meeting:
    agenda = body.get("agenda") or {}
    activity = agenda.get("activity")
    facilitator = body.get("facilitator")
    return Meeting(
        id=event.id,
        author=event.author,
        created_at=event.created_at,
        starts_at=int(body["starts_at"]),
        duration_minutes=int(body.get("duration_minutes") or DEFAULT_MEETING_MINUTES),
        place=text_field(body, "place"),
        facilitator=facilitator if isinstance(facilitator, bytes) else None,
        agenda=Agenda(
            checkin=text_field(agenda, "checkin"),
            coursework=text_field(agenda, "coursework"),
            activity=Activity(text_field(activity, "title"), activity.get("minutes"))
            if activity
            else None,
            plusdelta=text_field(agenda, "plusdelta"),
        ),
        previous=event.refs.get("previous"),
        **signed,
    )


def _questions(live: Live) -> tuple[Question, ...]:
    questions = {
        event.id: event for event in sorted(live.of(kinds.QUESTION), key=live.display_order)
    }
    answers: dict[bytes, list[Answer]] = {}
    resolutions: dict[bytes, Event] = {}
    for event in live.of(kinds.ANSWER):
        question_id = event.refs["question"]
        if question_id in questions:
            text = text_field(live.body(event), "text")
            answers.setdefault(question_id, []).append(
                Answer(event.id, event.author, event.created_at, live.shown_at(event), text)
            )
    for event in live.of(kinds.RESOLVED):
        question = questions.get(event.refs["question"])
        if question is not None and question.author == event.author:
            resolutions[question.id] = event  # the asker's newest counts
    result = []
    for question_id, event in questions.items():
        body = live.body(event)
        own_answers = tuple(sorted(answers.get(question_id, []), key=_display_order))
        resolution = resolutions.get(question_id)
        helped = resolution.refs.get("answer") if resolution else None
        result.append(
            Question(
                id=event.id,
                author=event.author,
                created_at=event.created_at,
                shown_at=live.shown_at(event),
                title=text_field(body, "title"),
                text=text_field(body, "text"),
                tags=tuple(body.get("tags") or ()),
                answers=own_answers,
                resolved_at=resolution.created_at if resolution else None,
                helped=helped if any(a.id == helped for a in own_answers) else None,
            )
        )
    return tuple(result)


def _resource(event: Event, body: Mapping[str, Any], shown_at: int) -> SharedResource:
    return SharedResource(
        id=event.id,
        author=event.author,
        created_at=event.created_at,
        shown_at=shown_at,
        url=text_field(body, "url"),
        title=text_field(body, "title"),
        description=text_field(body, "description"),
        tags=tuple(body.get("tags") or ()),
        licence=text_field(body, "licence"),
    )
