"""Today's meeting in the demo room: what the simulated learners do, move by move.

Rules of this file:
- Every move goes through the member's own circle service (`node.circles`), as
  a learner's would: the real kinds, the real checks.
- `at` is in script seconds after the room opens; the room's timing turns them
  into real ones (tests run a whole meeting in a fraction of a second).
- The meeting starts at MEETING_STARTS, so meeting mode is live within the first
  minute, and the circle page, meeting mode and the report are full by the last move.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from peernode.circles.model import Activity, Agenda
from peernode.demo.script import AMARA, DEMO_CIRCLE, JONAS, MEI, PLACE, TOMAS
from protocol.event import Event

if TYPE_CHECKING:
    from peernode.circles.service import CircleService

MEETING_STARTS: Final = 20.0
"""Script seconds after the room opens when today's meeting starts."""
MEETING_MINUTES: Final = 90


@dataclass(frozen=True, slots=True)
class Scene:
    """What a move acts on: the member's circle service and what happened before."""

    circles: CircleService
    post: Callable[[str], Awaitable[Event]]
    """A note by the member in the demo circle."""
    ids: Mapping[str, bytes]
    """The events of earlier moves (and of the circle's past), by label."""
    keys: Sequence[bytes]
    """The members' public keys, by index."""
    meeting_starts: int
    """When today's meeting starts (ms since the epoch)."""


@dataclass(frozen=True, slots=True)
class Move:
    """At `at` script seconds, the member of index `member` does `act`; its event is
    then known to later moves as `label` (if any)."""

    at: float
    member: int
    act: Callable[[Scene], Awaitable[Event]]
    label: str = ""


TODAY: Final = Agenda(
    checkin="One word for your week, and what you are working on.",
    coursework="Chapter 9 (dictionaries), then groupby on the bike-share data.",
    activity=Activity("Pair debugging", 15),
    plusdelta="One plus, one delta: we read them at the start of next week.",
)


def _schedule(scene: Scene) -> Awaitable[Event]:
    return scene.circles.schedule_meeting(
        DEMO_CIRCLE,
        starts_at=scene.meeting_starts,
        duration_minutes=MEETING_MINUTES,
        place=PLACE,
        facilitator=scene.keys[JONAS],
        agenda=TODAY,
    )


def _rsvp(answer: str) -> Callable[[Scene], Awaitable[Event]]:
    return lambda scene: scene.circles.rsvp(scene.ids["today"], answer)


def _check_in(
    feeling: str, working_on: str, need_help: str = ""
) -> Callable[[Scene], Awaitable[Event]]:
    fields = {"feeling": feeling, "working_on": working_on, "need_help": need_help}
    return lambda scene: scene.circles.check_in(
        scene.ids["today"], **{name: text for name, text in fields.items() if text}
    )


def _plus_delta(plus: str, delta: str = "") -> Callable[[Scene], Awaitable[Event]]:
    return lambda scene: scene.circles.plus_delta(scene.ids["today"], plus=plus, delta=delta)


def _note(text: str) -> Callable[[Scene], Awaitable[Event]]:
    return lambda scene: scene.post(text)


def _ask(scene: Scene) -> Awaitable[Event]:
    return scene.circles.ask(
        DEMO_CIRCLE,
        "Why does groupby leave out the rides with no station?",
        "`df.groupby('start_station').size()` counts 120 rides less than `len(df)`."
        " Where did they go?",
        tags=["pandas", "groupby"],
    )


def _answer(text: str) -> Callable[[Scene], Awaitable[Event]]:
    return lambda scene: scene.circles.answer(scene.ids["groupby"], text)


def _resolve(scene: Scene) -> Awaitable[Event]:
    return scene.circles.resolve(
        scene.ids["groupby"], scene.ids["groupby-tomas"], note="dropna=False, and all 120 are back."
    )


def _share(scene: Scene) -> Awaitable[Event]:
    return scene.circles.add_resource(
        DEMO_CIRCLE,
        "https://pandas.pydata.org/docs/user_guide/groupby.html",
        "Group by: split-apply-combine",
        description="The pandas guide to groupby, with the part on missing keys.",
        tags=["pandas", "groupby"],
    )


MOVES: Final[tuple[Move, ...]] = (
    Move(0.0, AMARA, _schedule, "today"),
    Move(1.5, JONAS, _rsvp("yes")),
    Move(3.0, MEI, _rsvp("yes")),
    Move(4.5, TOMAS, _rsvp("maybe")),
    Move(6.0, AMARA, _rsvp("yes")),
    Move(8.0, JONAS, _note("I'll facilitate today! Check-in first, then pair debugging.")),
    Move(MEETING_STARTS, JONAS, _check_in("Rested", "Chapter 9: dictionaries")),
    Move(23.0, MEI, _check_in("Curious", "groupby on the bike-share data", "Rows go missing")),
    Move(26.0, AMARA, lambda scene: scene.circles.attend(scene.ids["today"], "Here early")),
    Move(27.0, AMARA, _check_in("Happy", "Charts for the loan data")),
    Move(29.0, TOMAS, _rsvp("yes")),
    Move(30.0, TOMAS, _check_in("Late but here", "matplotlib labels")),
    Move(
        33.0, JONAS, _note("Activity: 15 minutes of pair debugging. Mei with Tomás, Amara and me.")
    ),
    Move(35.0, MEI, _ask, "groupby"),
    Move(
        39.0,
        TOMAS,
        _answer(
            "groupby leaves out rows whose key is missing (NaN). Pass `dropna=False`:"
            " `df.groupby('start_station', dropna=False).size()`."
        ),
        "groupby-tomas",
    ),
    Move(42.0, AMARA, _answer("`df['start_station'].isna().sum()` shows how many have none.")),
    Move(45.0, MEI, _resolve),
    Move(47.0, TOMAS, _share),
    Move(50.0, JONAS, _plus_delta("Pair debugging found two bugs in ten minutes", "Start on time")),
    Move(53.0, MEI, _plus_delta("My question was answered in the meeting", "Less coursework")),
    Move(56.0, TOMAS, _plus_delta("Learning from Mei's question")),
    Move(58.0, AMARA, _plus_delta("", "More time for plotting")),
)
"""Today's meeting: scheduled, RSVPs, check-ins as people arrive, the activity, a
question answered and resolved, a shared resource, plus/deltas."""
