"""A study circle's state, derived from its signed events: pure functions, no I/O.

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

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from peernode.views import Profile
from protocol import kinds
from protocol.errors import InvalidEvent
from protocol.event import Event

EDITABLE_KINDS = frozenset(
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

MINUTE_MS = 60_000
DEFAULT_MEETING_MINUTES = 120

_WORD = re.compile(r"[^\W_]+(?:[+#]+|(?:['’.-][^\W_]+)*)")


def words(text: str) -> list[str]:
    """Lowercased words of `text` ('c++', "don't" and 'e-mail' stay whole)."""
    return [match.group().lower() for match in _WORD.finditer(text)]


def order(event: Event) -> tuple[int, bytes]:
    """Consensus order: every node holding the same events agrees on it."""
    return (event.created_at, event.id)


def minutes_text(minutes: int) -> str:
    """90 -> '1 h 30', 120 -> '2 h', 45 -> '45 min'."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def compact(body: Mapping[str, Any]) -> dict[str, Any]:
    """`body` without its empty optional fields (None, "", empty lists and maps)."""
    return {name: value for name, value in body.items() if value not in (None, "", [], (), {})}


def circle_body(
    *,
    name: str,
    topic: str = "",
    description: str = "",
    resources: Sequence[Link] = (),
    rhythm: Rhythm | None = None,
    language: str = "",
) -> dict[str, Any]:
    return compact(
        {
            "name": name,
            "topic": topic,
            "description": description,
            "resources": [link.to_body() for link in resources],
            "rhythm": rhythm.to_body() if rhythm else None,
            "language": language,
        }
    )


def meeting_body(
    *,
    starts_at: int,
    duration_minutes: int | None = None,
    place: str = "",
    facilitator: bytes | None = None,
    agenda: Agenda | None = None,
) -> dict[str, Any]:
    return compact(
        {
            "starts_at": starts_at,
            "duration_minutes": duration_minutes,
            "place": place,
            "facilitator": facilitator,
            "agenda": agenda.to_body() if agenda else None,
        }
    )


# -- plain data ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    """A resource link in a circle's description."""

    url: str
    title: str = ""
    licence: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "title": self.title, "licence": self.licence}

    def to_body(self) -> dict[str, Any]:
        return compact(self.to_json())


@dataclass(frozen=True, slots=True)
class Rhythm:
    cadence: str = "weekly"
    duration_minutes: int | None = None
    weeks: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "cadence": self.cadence,
            "duration_minutes": self.duration_minutes,
            "weeks": self.weeks,
        }

    def to_body(self) -> dict[str, Any]:
        return compact(self.to_json())

    def describe(self) -> str:
        parts = [self.cadence]
        if self.duration_minutes:
            parts.append(minutes_text(self.duration_minutes))
        if self.weeks:
            parts.append(f"{self.weeks} weeks")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class CircleVersion:
    """One circle event: the description as its author proposed it."""

    id: bytes
    author: bytes
    created_at: int
    title: str
    topic: str
    description: str
    resources: tuple[Link, ...]
    rhythm: Rhythm | None
    language: str
    updates: bytes | None

    @classmethod
    def from_event(cls, event: Event) -> CircleVersion:
        body = event.body
        rhythm = body.get("rhythm")
        return cls(
            id=event.id,
            author=event.author,
            created_at=event.created_at,
            title=_str(body, "name"),
            topic=_str(body, "topic"),
            description=_str(body, "description"),
            resources=tuple(
                Link(_str(item, "url"), _str(item, "title"), _str(item, "licence"))
                for item in body.get("resources") or []
            ),
            rhythm=None
            if rhythm is None
            else Rhythm(
                cadence=str(rhythm.get("cadence") or "weekly"),
                duration_minutes=rhythm.get("duration_minutes"),
                weeks=rhythm.get("weeks"),
            ),
            language=_str(body, "language"),
            updates=event.refs.get("updates"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id.hex(),
            "author": self.author.hex(),
            "created_at": self.created_at,
            "title": self.title,
            "topic": self.topic,
            "description": self.description,
            "resources": [link.to_json() for link in self.resources],
            "rhythm": self.rhythm.to_json() if self.rhythm else None,
            "language": self.language,
            "updates": self.updates.hex() if self.updates else None,
        }

    def to_body(self, **changes: Any) -> dict[str, Any]:
        """The body of a circle event describing this version, with `changes`
        (keyword arguments of circle_body; "" or None clears an optional field)."""
        fields: dict[str, Any] = {
            "name": self.title,
            "topic": self.topic,
            "description": self.description,
            "resources": self.resources,
            "rhythm": self.rhythm,
            "language": self.language,
        }
        return circle_body(**{**fields, **changes})


@dataclass(frozen=True, slots=True)
class Member:
    key: bytes
    since: int
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key.hex(), "since": self.since, "message": self.message}


@dataclass(frozen=True, slots=True)
class Activity:
    title: str
    minutes: int | None = None

    def describe(self) -> str:
        return f"{self.title} ({self.minutes or '15–20'} min)"


@dataclass(frozen=True, slots=True)
class Agenda:
    checkin: str = ""
    coursework: str = ""
    activity: Activity | None = None
    plusdelta: str = ""

    def to_json(self) -> dict[str, Any]:
        activity = self.activity
        return {
            "checkin": self.checkin,
            "coursework": self.coursework,
            "activity": {"title": activity.title, "minutes": activity.minutes}
            if activity
            else None,
            "plusdelta": self.plusdelta,
        }

    def to_body(self) -> dict[str, Any]:
        body = self.to_json()
        if self.activity is not None:
            body["activity"] = compact(body["activity"])
        return compact(body)


@dataclass(frozen=True, slots=True)
class Rsvp:
    author: bytes
    answer: str
    created_at: int


@dataclass(frozen=True, slots=True)
class CheckIn:
    id: bytes
    author: bytes
    created_at: int
    shown_at: int
    feeling: str
    working_on: str
    need_help: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id.hex(),
            "author": self.author.hex(),
            "created_at": self.created_at,
            "shown_at": self.shown_at,
            "feeling": self.feeling,
            "working_on": self.working_on,
            "need_help": self.need_help,
        }


@dataclass(frozen=True, slots=True)
class PlusDelta:
    id: bytes
    author: bytes
    created_at: int
    shown_at: int
    plus: str
    delta: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id.hex(),
            "author": self.author.hex(),
            "created_at": self.created_at,
            "shown_at": self.shown_at,
            "plus": self.plus,
            "delta": self.delta,
        }


@dataclass(frozen=True, slots=True)
class Meeting:
    """A scheduled meeting with what members signed about it."""

    id: bytes
    author: bytes
    created_at: int
    starts_at: int
    duration_minutes: int
    place: str
    facilitator: bytes | None
    agenda: Agenda
    previous: bytes | None
    rsvps: tuple[Rsvp, ...] = ()
    attendees: tuple[bytes, ...] = ()
    checkins: tuple[CheckIn, ...] = ()
    plusdeltas: tuple[PlusDelta, ...] = ()

    @property
    def ends_at(self) -> int:
        return self.starts_at + self.duration_minutes * MINUTE_MS

    def rsvp_of(self, key: bytes) -> str | None:
        return next((rsvp.answer for rsvp in self.rsvps if rsvp.author == key), None)

    def held(self, now: int) -> bool:
        """Started in the past and at least one member signed that they were there."""
        return self.starts_at <= now and bool(self.attendees)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id.hex(),
            "author": self.author.hex(),
            "created_at": self.created_at,
            "starts_at": self.starts_at,
            "duration_minutes": self.duration_minutes,
            "place": self.place,
            "facilitator": self.facilitator.hex() if self.facilitator else None,
            "agenda": self.agenda.to_json(),
            "previous": self.previous.hex() if self.previous else None,
            "rsvps": {rsvp.author.hex(): rsvp.answer for rsvp in self.rsvps},
            "attendees": [key.hex() for key in self.attendees],
            "checkins": [checkin.to_json() for checkin in self.checkins],
            "plusdeltas": [plusdelta.to_json() for plusdelta in self.plusdeltas],
        }


@dataclass(frozen=True, slots=True)
class Answer:
    id: bytes
    author: bytes
    created_at: int
    shown_at: int
    text: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id.hex(),
            "author": self.author.hex(),
            "created_at": self.created_at,
            "shown_at": self.shown_at,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class Question:
    """A question with its answers; `resolved_at` is set by the asker only.

    created_at is the author's claim and shown_at the time this node shows (see
    peernode.clock), as in Answer, CheckIn, PlusDelta and SharedResource.
    """

    id: bytes
    author: bytes
    created_at: int
    shown_at: int
    title: str
    text: str
    tags: tuple[str, ...]
    answers: tuple[Answer, ...] = ()
    resolved_at: int | None = None
    helped: bytes | None = None
    """The answer the asker marked as what helped, if any."""

    @property
    def status(self) -> str:
        """'resolved', 'answered' (someone other than the asker answered) or 'open'."""
        if self.resolved_at is not None:
            return "resolved"
        return "answered" if self.first_answer is not None else "open"

    @property
    def first_answer(self) -> Answer | None:
        return next((answer for answer in self.answers if answer.author != self.author), None)

    def tagged(self, topic: str) -> bool:
        wanted = words(topic)
        return bool(wanted) and any(words(tag) == wanted for tag in self.tags)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id.hex(),
            "author": self.author.hex(),
            "created_at": self.created_at,
            "shown_at": self.shown_at,
            "title": self.title,
            "text": self.text,
            "tags": list(self.tags),
            "status": self.status,
            "answers": [answer.to_json() for answer in self.answers],
            "resolved_at": self.resolved_at,
            "helped": self.helped.hex() if self.helped else None,
        }


@dataclass(frozen=True, slots=True)
class SharedResource:
    id: bytes
    author: bytes
    created_at: int
    shown_at: int
    url: str
    title: str
    description: str
    tags: tuple[str, ...]
    licence: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id.hex(),
            "author": self.author.hex(),
            "created_at": self.created_at,
            "shown_at": self.shown_at,
            "url": self.url,
            "title": self.title,
            "description": self.description,
            "tags": list(self.tags),
            "licence": self.licence,
        }


@dataclass(frozen=True, slots=True)
class CircleState:
    """Everything a circle is, as this node's events say.

    history: every live circle version, oldest first; the newest gives title,
    topic, resources (links), rhythm, etc. shared_resources: the links members
    shared as resource events. members: joined minus left, by each member's newest
    join/leave (creating a circle version that replaces none counts as a join).
    deleted: ids withdrawn by
    their authors. bodies: the current body of every edited event, so the
    feed can show notes as edited (and hide the deleted ones).
    """

    slug: str
    history: tuple[CircleVersion, ...]
    members: tuple[Member, ...]
    meetings: tuple[Meeting, ...]
    questions: tuple[Question, ...]
    shared_resources: tuple[SharedResource, ...]
    deleted: frozenset[bytes] = frozenset()
    bodies: Mapping[bytes, Mapping[str, Any]] = field(default_factory=dict, compare=False)

    @property
    def exists(self) -> bool:
        return bool(self.history)

    @property
    def current(self) -> CircleVersion | None:
        return self.history[-1] if self.history else None

    @property
    def title(self) -> str:
        return self.current.title if self.current else self.slug

    @property
    def topic(self) -> str:
        return self.current.topic if self.current else ""

    @property
    def description(self) -> str:
        return self.current.description if self.current else ""

    @property
    def resources(self) -> tuple[Link, ...]:
        """The resource links of the circle's description (see shared_resources too)."""
        return self.current.resources if self.current else ()

    @property
    def rhythm(self) -> Rhythm | None:
        return self.current.rhythm if self.current else None

    @property
    def language(self) -> str:
        return self.current.language if self.current else ""

    @property
    def creator(self) -> bytes | None:
        return self.history[0].author if self.history else None

    @property
    def created_at(self) -> int | None:
        return self.history[0].created_at if self.history else None

    def is_member(self, key: bytes) -> bool:
        return any(member.key == key for member in self.members)

    def meeting(self, meeting_id: bytes) -> Meeting | None:
        return next((m for m in self.meetings if m.id == meeting_id), None)

    def question(self, question_id: bytes) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def next_meeting(self, now: int) -> Meeting | None:
        """The first meeting that has not ended yet."""
        return next((m for m in self.meetings if m.ends_at > now), None)

    def questions_with(self, status: str) -> list[Question]:
        return [question for question in self.questions if question.status == status]

    def to_json(self) -> dict[str, Any]:
        current = self.current
        return {
            "circle": self.slug,
            "title": self.title,
            "topic": self.topic,
            "description": self.description,
            "resources": [link.to_json() for link in self.resources],
            "rhythm": self.rhythm.to_json() if self.rhythm else None,
            "language": self.language,
            "creator": self.creator.hex() if self.creator else None,
            "created_at": self.created_at,
            "updated_at": current.created_at if current else None,
            "members": [member.to_json() for member in self.members],
            "history": [version.to_json() for version in self.history],
            "meetings": [meeting.to_json() for meeting in self.meetings],
            "questions": [question.to_json() for question in self.questions],
            "shared_resources": [resource.to_json() for resource in self.shared_resources],
            "deleted": sorted(target.hex() for target in self.deleted),
        }


@dataclass(frozen=True, slots=True)
class CircleSummary:
    """A line of `peernode circle list`."""

    slug: str
    title: str
    topic: str
    members: int
    member: bool
    updated_at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "circle": self.slug,
            "title": self.title,
            "topic": self.topic,
            "members": self.members,
            "member": self.member,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class Helper:
    """Someone who can help with a topic, and why we think so."""

    key: bytes
    name: str
    can_help: str
    profile_match: bool
    answers: int
    member: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key.hex(),
            "name": self.name,
            "can_help": self.can_help,
            "profile_match": self.profile_match,
            "answers": self.answers,
            "member": self.member,
        }


# -- deriving the state -------------------------------------------------------------------


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
    history = tuple(CircleVersion.from_event(event) for event in live.of(kinds.CIRCLE))
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
    )


def summarize(state: CircleState, me: bytes | None) -> CircleSummary:
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
        if target is None or target.id in deleted or target.kind not in EDITABLE_KINDS:
            continue
        merged = {**bodies.get(target.id, target.body), **event.body}
        merged = {name: value for name, value in merged.items() if value is not None}
        if _valid_body(target.kind, merged):
            bodies[target.id] = merged
    kept = [
        event
        for event in events
        if event.id not in deleted and event.kind not in (kinds.EDIT, kinds.DELETE)
    ]
    return Live(events=kept, deleted=deleted, bodies=bodies)


def _valid_body(kind: str, body: Mapping[str, Any]) -> bool:
    spec = kinds.spec_of(kind)
    if spec is None:
        return False
    try:
        spec.check_body(body)
    except InvalidEvent:
        return False
    return True


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
                message = _str(live.body(event), "message")
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
    attendees: dict[bytes, dict[bytes, None]] = {}
    checkins: dict[bytes, list[CheckIn]] = {}
    plusdeltas: dict[bytes, list[PlusDelta]] = {}
    for event in live.events:  # in (created_at, id) order, so later rsvps replace earlier
        meeting_id = event.refs.get("meeting")
        if meeting_id is None or meeting_id not in meetings:
            continue
        body = live.body(event)
        if event.kind == kinds.RSVP:
            rsvps.setdefault(meeting_id, {})[event.author] = Rsvp(
                event.author, _str(body, "answer"), event.created_at
            )
        elif event.kind == kinds.ATTENDANCE:
            attendees.setdefault(meeting_id, {})[event.author] = None
        elif event.kind == kinds.CHECKIN:
            checkins.setdefault(meeting_id, []).append(
                CheckIn(
                    event.id,
                    event.author,
                    event.created_at,
                    live.shown_at(event),
                    feeling=_str(body, "feeling"),
                    working_on=_str(body, "working_on"),
                    need_help=_str(body, "need_help"),
                )
            )
        elif event.kind == kinds.PLUSDELTA:
            plusdeltas.setdefault(meeting_id, []).append(
                PlusDelta(
                    event.id,
                    event.author,
                    event.created_at,
                    live.shown_at(event),
                    plus=_str(body, "plus"),
                    delta=_str(body, "delta"),
                )
            )
    result = [
        _meeting(
            event,
            live.body(event),
            rsvps=tuple(rsvps.get(event.id, {}).values()),
            attendees=tuple(attendees.get(event.id, {})),
            checkins=tuple(sorted(checkins.get(event.id, []), key=_display_order)),
            plusdeltas=tuple(sorted(plusdeltas.get(event.id, []), key=_display_order)),
        )
        for event in meetings.values()
    ]
    return tuple(sorted(result, key=lambda meeting: (meeting.starts_at, meeting.id)))


def _display_order(item: CheckIn | PlusDelta | Answer) -> tuple[int, int, bytes]:
    return (item.shown_at, item.created_at, item.id)


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
        place=_str(body, "place"),
        facilitator=facilitator if isinstance(facilitator, bytes) else None,
        agenda=Agenda(
            checkin=_str(agenda, "checkin"),
            coursework=_str(agenda, "coursework"),
            activity=Activity(_str(activity, "title"), activity.get("minutes"))
            if activity
            else None,
            plusdelta=_str(agenda, "plusdelta"),
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
            text = _str(live.body(event), "text")
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
                title=_str(body, "title"),
                text=_str(body, "text"),
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
        url=_str(body, "url"),
        title=_str(body, "title"),
        description=_str(body, "description"),
        tags=tuple(body.get("tags") or ()),
        licence=_str(body, "licence"),
    )


def _str(body: Mapping[str, Any] | None, name: str) -> str:
    value = (body or {}).get(name)
    return value if isinstance(value, str) else ""


# -- questions about the state ------------------------------------------------------------


def who_can_help(state: CircleState, topic: str, profiles: Sequence[Profile]) -> list[Helper]:
    """Peers who can help with `topic`: their profile's `can_help` names it (whole
    words, any case), or they answered questions tagged with it. Members of the
    circle first, then by how much evidence, then by name."""
    wanted = words(topic)
    if not wanted:
        return []
    known = {profile.key: profile for profile in profiles}
    matches = {p.key for p in profiles if _contains(words(p.can_help), wanted)}
    answered: dict[bytes, int] = {}
    for question in state.questions:
        if question.tagged(topic):
            for key in {a.author for a in question.answers if a.author != question.author}:
                answered[key] = answered.get(key, 0) + 1
    helpers = []
    for key in matches | set(answered):
        profile = known.get(key) or Profile.unnamed(key)
        helpers.append(
            Helper(
                key=key,
                name=profile.name,
                can_help=profile.can_help,
                profile_match=key in matches,
                answers=answered.get(key, 0),
                member=state.is_member(key),
            )
        )
    return sorted(
        helpers,
        key=lambda h: (not h.member, -(h.answers + h.profile_match), h.name.lower(), h.key),
    )


def _contains(haystack: list[str], needle: list[str]) -> bool:
    size = len(needle)
    return any(haystack[i : i + size] == needle for i in range(len(haystack) - size + 1))


def suggest_facilitators(state: CircleState) -> list[bytes]:
    """Members in the order they might facilitate next: those who never have
    (longest-standing first), then the others, least recently first."""
    last: dict[bytes, int] = {}
    for meeting in state.meetings:
        if meeting.facilitator is not None:
            last[meeting.facilitator] = meeting.starts_at
    never = [member.key for member in state.members if member.key not in last]
    again = sorted(
        (member for member in state.members if member.key in last),
        key=lambda member: (last[member.key], member.since, member.key),
    )
    return never + [member.key for member in again]
