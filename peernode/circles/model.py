"""A study circle's value types: frozen data derived from its events, with its JSON.

Everything here is plain data: peernode.circles.derive computes it from events,
peernode.circles.text writes it for people, and the CLI and the TUI show it.
Times are ms since the Unix epoch; `created_at` is the author's claim and
`shown_at` this node's bound on it (see peernode.clock).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from peernode.circles.bodies import circle_body, compact
from protocol.kinds import circles as circle_kinds
from protocol.limits import MAX_CIRCLE_CHARS

# -- limits and choices: the protocol's (protocol/kinds), named for forms and options ------

CADENCES: Final = circle_kinds.CADENCES
RSVP_ANSWERS: Final = circle_kinds.RSVP_ANSWERS
QUESTION_STATUSES: Final = ("open", "answered", "resolved")
"""Question.status, in the order a question goes through them."""

MAX_SLUG_CHARS: Final = MAX_CIRCLE_CHARS
"""Longest slug (the event's `circle` field, shared with the feed's channels)."""
MIN_MINUTES: Final = 1
"""The shortest meeting, rhythm or activity the protocol accepts."""
MAX_MEETING_MINUTES: Final = circle_kinds.MAX_DURATION_MINUTES
MIN_ACTIVITY_MINUTES: Final = circle_kinds.MIN_ACTIVITY_MINUTES
MAX_ACTIVITY_MINUTES: Final = circle_kinds.MAX_ACTIVITY_MINUTES
MAX_RHYTHM_MINUTES: Final = circle_kinds.MAX_DURATION_MINUTES
MIN_WEEKS: Final = 1
MAX_WEEKS: Final = circle_kinds.MAX_WEEKS
MAX_TAGS: Final = circle_kinds.MAX_TAGS
MAX_TAG_CHARS: Final = circle_kinds.MAX_TAG_CHARS
"""Tags of a question or a shared resource: how many, and how long each."""
MAX_TITLE_BYTES: Final = circle_kinds.MAX_TITLE_BYTES
MAX_TEXT_BYTES: Final = circle_kinds.MAX_TEXT_BYTES
"""Of a question's title, and of a question's details or an answer (UTF-8 bytes)."""

DEFAULT_MEETING_MINUTES: Final = 120
"""A meeting's length when its event gives none."""
DEFAULT_ACTIVITY_MINUTES: Final = 20
"""What a form proposes for the activity (learning circles say 15–20 minutes)."""

MINUTE_MS: Final = 60_000

_WORD = re.compile(r"[^\W_]+(?:[+#]+|(?:['’.-][^\W_]+)*)")


def words(text: str) -> list[str]:
    """Lowercased words of `text` ('c++', "don't" and 'e-mail' stay whole)."""
    return [match.group().lower() for match in _WORD.finditer(text)]


@dataclass(frozen=True, slots=True)
class ResourceLink:
    """A resource link in a circle's description (not a peer link: see peernode.net.link)."""

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


@dataclass(frozen=True, slots=True)
class CircleVersion:
    """One circle event: the description as its author proposed it."""

    id: bytes
    author: bytes
    created_at: int
    title: str
    topic: str
    description: str
    resources: tuple[ResourceLink, ...]
    rhythm: Rhythm | None
    language: str
    updates: bytes | None

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
    """A scheduled meeting with what members signed about it.

    `signed_attendance` holds who signed an attendance event ("I was here");
    `attendees` is who attended: see there.
    """

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
    signed_attendance: tuple[bytes, ...] = ()
    checkins: tuple[CheckIn, ...] = ()
    plusdeltas: tuple[PlusDelta, ...] = ()

    @property
    def ends_at(self) -> int:
        return self.starts_at + self.duration_minutes * MINUTE_MS

    @property
    def attendees(self) -> tuple[bytes, ...]:
        """Who attended: the one rule every screen, list and report uses.

        A person attended a meeting if they signed attendance for it or checked
        in at it (a check-in at a meeting means you were there). Those who
        signed attendance come first, in signing order, then the others who
        checked in, in check-in order.
        """
        checked_in = (checkin.author for checkin in self.checkins)
        return tuple(dict.fromkeys([*self.signed_attendance, *checked_in]))

    def rsvp_of(self, key: bytes) -> str | None:
        return next((rsvp.answer for rsvp in self.rsvps if rsvp.author == key), None)

    def held(self, now: int) -> bool:
        """Started in the past and at least one member attended (see `attendees`)."""
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

    history: every live circle version, oldest first (by claimed time). current_id:
    the version that gives title, topic, resources (links), rhythm, etc. (see
    peernode.circles.versions: the `updates` chain decides, not the claimed time);
    None means the newest in history. shared_resources: the links members
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
    current_id: bytes | None = None

    @property
    def exists(self) -> bool:
        return bool(self.history)

    @property
    def current(self) -> CircleVersion | None:
        if self.current_id is not None:
            for version in self.history:
                if version.id == self.current_id:
                    return version
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
    def resources(self) -> tuple[ResourceLink, ...]:
        """The resource links of the circle's description (see shared_resources too)."""
        return self.current.resources if self.current else ()

    @property
    def rhythm(self) -> Rhythm | None:
        return self.current.rhythm if self.current else None

    @property
    def language(self) -> str:
        return self.current.language if self.current else ""

    @property
    def origin(self) -> CircleVersion | None:
        """The version the current one descends from by `updates` (its first)."""
        by_id = {version.id: version for version in self.history}
        version = self.current
        seen: set[bytes] = set()
        while version is not None and version.updates in by_id and version.id not in seen:
            seen.add(version.id)
            version = by_id[version.updates]
        return version

    @property
    def creator(self) -> bytes | None:
        """Who started the circle: the author of the current version's first ancestor
        (a backdated "creation" by someone else is not in that chain)."""
        origin = self.origin
        return origin.author if origin else None

    @property
    def created_at(self) -> int | None:
        origin = self.origin
        return origin.created_at if origin else None

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
    badges: tuple[str, ...] = ()
    """Badges they hold of challenges about the topic: they did it (mentors)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key.hex(),
            "name": self.name,
            "can_help": self.can_help,
            "profile_match": self.profile_match,
            "answers": self.answers,
            "member": self.member,
            "badges": list(self.badges),
        }


@dataclass(frozen=True, slots=True)
class Mentor:
    """Someone who holds a challenge's badge: they can help with what the challenge is about."""

    key: bytes
    badge: str
    about: str
    """The challenge's words (title, question, badge) a topic is searched in."""
