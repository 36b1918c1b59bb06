"""What the schedule form proposes (pure): now, or the rhythm's next slot; what carries over."""

from __future__ import annotations

from typing import Any

import pytest

from peernode.circles import derive_state, propose_meeting
from peernode.circles.model import Activity, Agenda, CircleState
from peernode.circles.proposals import RECENT_MS, SOON_MS, round_now
from protocol import kinds
from protocol.event import create_event
from protocol.identity import SigningKey

ANA = SigningKey.from_seed(b"\x01" * 32)
MINUTE = 60_000
DAY = 24 * 60 * MINUTE
NOW = 1_700_000_000_000  # Tue 2023-11-14 22:13:20 UTC: no daylight-saving change within weeks
AGENDA = Agenda(
    checkin="One word for today?",
    coursework="Chapter 2: joins",
    activity=Activity("Join puzzles", 15),
    plusdelta="+ and Δ, one each",
)


def circle(*meetings: dict[str, Any], rhythm: dict[str, Any] | None = None) -> CircleState:
    body: dict[str, Any] = {"name": "SQL"}
    if rhythm is not None:
        body["rhythm"] = rhythm
    events = [create_event(ANA, kind=kinds.CIRCLE, circle="sql", body=body, created_at=1)]
    for index, meeting in enumerate(meetings):
        events.append(
            create_event(ANA, kind=kinds.MEETING, circle="sql", body=meeting, created_at=2 + index)
        )
    return derive_state("sql", events)


def held_at(starts_at: int, **body: Any) -> dict[str, Any]:
    return {"starts_at": starts_at, "duration_minutes": 90, **body}


def test_round_now_goes_down_to_five_minutes() -> None:
    five = 5 * MINUTE
    assert round_now(100 * five) == 100 * five
    assert round_now(100 * five + 4 * MINUTE) == 100 * five


def test_a_circle_without_meetings_starts_now() -> None:
    proposal = propose_meeting(circle(rhythm={"cadence": "weekly", "duration_minutes": 100}), NOW)
    assert proposal.basis == "now"
    assert proposal.starts_at == round_now(NOW)
    assert NOW - 5 * MINUTE < proposal.starts_at <= NOW  # on at once
    assert proposal.duration_minutes == 100
    assert (proposal.place, proposal.agenda) == ("", Agenda())


@pytest.mark.parametrize(
    "starts_at",
    [
        NOW - 30 * MINUTE,  # in progress
        NOW + 2 * DAY,  # coming up
        NOW - 90 * MINUTE - RECENT_MS + MINUTE,  # ended, but just now
    ],
    ids=["in progress", "coming up", "just ended"],
)
def test_with_a_meeting_on_it_proposes_the_next_slot(starts_at: int) -> None:
    state = circle(held_at(starts_at, place="Library, room 2", agenda=AGENDA.to_body()))
    proposal = propose_meeting(state, NOW)
    assert proposal.basis == "rhythm"
    assert proposal.starts_at == starts_at + 7 * DAY
    assert proposal.place == "Library, room 2"
    assert proposal.agenda == AGENDA
    assert proposal.duration_minutes == 90  # no rhythm length: the last meeting's


def test_nothing_on_proposes_now_unless_the_rhythm_slot_is_soon() -> None:
    long_ago = held_at(NOW - 3 * DAY, place="Room 5")
    proposal = propose_meeting(circle(long_ago), NOW)
    assert (proposal.basis, proposal.starts_at, proposal.place) == ("now", round_now(NOW), "Room 5")
    slot_soon = held_at(NOW - 7 * DAY + SOON_MS - MINUTE)
    proposal = propose_meeting(circle(slot_soon), NOW)
    assert proposal.basis == "rhythm"
    assert proposal.starts_at == NOW + SOON_MS - MINUTE


def test_a_missed_slot_moves_on_by_whole_steps() -> None:
    weeks_ago = held_at(NOW - 20 * DAY)  # three weeks on is NOW + 1 day
    state = circle(weeks_ago, rhythm={"cadence": "weekly"})
    proposal = propose_meeting(state, NOW)
    assert proposal.basis == "now"  # the next slot is a day away: not soon
    on_now = held_at(NOW - 10 * MINUTE)
    state = circle(weeks_ago, on_now, rhythm={"cadence": "weekly"})
    assert propose_meeting(state, NOW).starts_at == NOW - 10 * MINUTE + 7 * DAY


@pytest.mark.parametrize(("cadence", "days"), [("biweekly", 14), ("monthly", 28), ("other", 7)])
def test_the_step_follows_the_cadence(cadence: str, days: int) -> None:
    state = circle(
        held_at(NOW - 10 * MINUTE),
        rhythm={"cadence": cadence, "duration_minutes": 120},
    )
    proposal = propose_meeting(state, NOW)
    assert proposal.starts_at == NOW - 10 * MINUTE + days * DAY
    assert proposal.duration_minutes == 120  # the rhythm's length wins over the last meeting's
