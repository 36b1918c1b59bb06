"""`peernode meeting`: schedule, list, rsvp, attend, check in and close meetings."""

from __future__ import annotations

from typing import Any

import click

from peernode.circles.model import (
    MAX_ACTIVITY_MINUTES,
    MAX_MEETING_MINUTES,
    MIN_ACTIVITY_MINUTES,
    MIN_MINUTES,
    RSVP_ANSWERS,
    Activity,
    Agenda,
    CircleState,
)
from peernode.circles.text import meeting_line
from peernode.cli.circles.common import names, publish, read
from peernode.cli.options import emit_json, group, pass_home
from peernode.clock import now_ms
from peernode.home import Home
from peernode.node import Node
from peernode.people import resolve_person
from peernode.text import parse_local_time
from protocol.event import Event


@group()
def meeting() -> None:
    """Meetings: schedule, list, rsvp, attend, checkin, plusdelta."""


def parse_time(text: str, param: str = "--at") -> int:
    """ISO 8601 ('2026-12-01T18:00', local time unless it names an offset) → ms."""
    try:
        return parse_local_time(text, example="2026-12-01T18:00")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=param) from None


def _resolve_person(node: Node, state: CircleState, text: str) -> bytes:
    """'me', a fingerprint (or its start), a key in hex (whole or ≥ 8 leading digits),
    or a unique display name."""
    if text.strip().lower() == "me":
        return node.public_key
    people = {member.key for member in state.members} | {p.key for p in node.profiles()}
    return resolve_person(text, people, lambda key: node.profile_of(key).name, what="facilitator")


@meeting.command("schedule", json_lines=True)
@click.argument("circle_slug", metavar="CIRCLE")
@click.option("--at", "at", required=True, help="Start, e.g. 2026-12-01T18:00 (local time).")
@click.option(
    "--duration",
    type=click.IntRange(MIN_MINUTES, MAX_MEETING_MINUTES),
    default=None,
    help="Minutes.",
)
@click.option("--place", default="", help="Where.")
@click.option("--facilitator", default=None, help="'me', a name or a fingerprint.")
@click.option("--checkin", "checkin_prompt", default="", help="Check-in prompt.")
@click.option("--coursework", default="", help="What to work on.")
@click.option("--activity", default="", help="The activity's title.")
@click.option(
    "--activity-minutes",
    type=click.IntRange(MIN_ACTIVITY_MINUTES, MAX_ACTIVITY_MINUTES),
    default=None,
    help="15–20.",
)
@click.option("--plusdelta", "plusdelta_prompt", default="", help="Plus/delta prompt.")
@pass_home
def meeting_schedule(
    home: Home,
    as_json: bool,
    circle_slug: str,
    at: str,
    duration: int | None,
    place: str,
    facilitator: str | None,
    checkin_prompt: str,
    coursework: str,
    activity: str,
    activity_minutes: int | None,
    plusdelta_prompt: str,
) -> None:
    """Schedule a meeting of CIRCLE (any member can schedule the next one)."""
    starts_at = parse_time(at)
    if activity_minutes is not None and not activity:
        raise click.UsageError("--activity-minutes needs --activity TITLE")
    agenda = Agenda(
        checkin=checkin_prompt,
        coursework=coursework,
        activity=Activity(activity, activity_minutes) if activity else None,
        plusdelta=plusdelta_prompt,
    )

    async def work(node: Node) -> Event:
        key = None
        if facilitator is not None:
            key = _resolve_person(node, await node.circles.state(circle_slug), facilitator)
        return await node.circles.schedule_meeting(
            circle_slug,
            starts_at=starts_at,
            duration_minutes=duration,
            place=place,
            facilitator=key,
            agenda=agenda,
        )

    publish(home, as_json, work)


@meeting.command("list", json_lines=True)
@click.argument("circle_slug", metavar="CIRCLE")
@pass_home
def meeting_list(home: Home, as_json: bool, circle_slug: str) -> None:
    """The meetings of CIRCLE, in order; '>' marks the next one."""

    async def work(node: Node) -> list[Any]:
        state = await node.circles.state(circle_slug)
        upcoming = state.next_meeting(now_ms())
        if as_json:
            return [m.to_json() | {"next": m is upcoming} for m in state.meetings]
        name_of = names(node)
        return [
            ("> " if m is upcoming else "  ") + meeting_line(m, name_of) for m in state.meetings
        ]

    for line in read(home, work):
        if as_json:
            emit_json(line)
        else:
            click.echo(line)


@meeting.command("rsvp", json_lines=True)
@click.argument("meeting_id", metavar="MEETING")
@click.argument("answer", type=click.Choice(sorted(RSVP_ANSWERS)))
@pass_home
def meeting_rsvp(home: Home, as_json: bool, meeting_id: str, answer: str) -> None:
    """Say whether you will come (your newest answer counts)."""
    publish(home, as_json, lambda node: node.circles.rsvp(meeting_id, answer))


@meeting.command("attend", json_lines=True)
@click.argument("meeting_id", metavar="MEETING")
@click.option("--note", default="", help="A short note.")
@pass_home
def meeting_attend(home: Home, as_json: bool, meeting_id: str, note: str) -> None:
    """Sign that you were at a meeting (a check-in counts as this already)."""
    publish(home, as_json, lambda node: node.circles.attend(meeting_id, note))


@meeting.command("checkin", json_lines=True)
@click.argument("meeting_id", metavar="MEETING")
@click.option("--feeling", default="", help="How I am.")
@click.option("--working-on", default="", help="What I work on today.")
@click.option("--need-help", default="", help="Where I need help.")
@pass_home
def meeting_checkin(
    home: Home,
    as_json: bool,
    meeting_id: str,
    feeling: str,
    working_on: str,
    need_help: str,
) -> None:
    """Check in at a meeting: how you are, what you work on, where you need help.

    A check-in counts as attending: no need to `attend` as well.
    """
    fields = {"feeling": feeling, "working_on": working_on, "need_help": need_help}
    publish(home, as_json, lambda node: node.circles.check_in(meeting_id, **fields))


@meeting.command("plusdelta", json_lines=True)
@click.argument("meeting_id", metavar="MEETING")
@click.option("--plus", default="", help="One thing that went well.")
@click.option("--delta", default="", help="One thing to change.")
@pass_home
def meeting_plusdelta(home: Home, as_json: bool, meeting_id: str, plus: str, delta: str) -> None:
    """Close a meeting: one plus, one delta."""
    publish(home, as_json, lambda node: node.circles.plus_delta(meeting_id, plus, delta))
