"""Commands about study circles: circle, meeting, ask/answer/resolve, resource, report."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from peernode.circles.model import (
    Activity,
    Agenda,
    CircleState,
    Link,
    Meeting,
    Question,
    Rhythm,
    minutes_text,
)
from peernode.circles.report import render
from peernode.cli.offline import run_with_node
from peernode.cli.options import command, emit_json, group, pass_home
from peernode.clock import now_ms
from peernode.errors import BadInput
from peernode.home import Home
from peernode.node import Node
from protocol.event import Event
from protocol.kinds.circles import CADENCES
from protocol.kinds.circles import RSVP_ANSWERS as ANSWERS

STATUSES = ("open", "answered", "resolved")


# -- helpers ------------------------------------------------------------------------------


def _publish(
    home: Home,
    as_json: bool,
    work: Callable[[Node], Awaitable[Event]],
) -> None:
    """Run a command that signs one event; print its id (or the event as JSON)."""

    async def run(node: Node) -> dict[str, Any]:
        node.ensure_identity()
        event = await work(node)
        return node.entry(event).to_json()

    result = run_with_node(home, run)
    if as_json:
        emit_json(result)
    else:
        click.echo(result["id"])


def _read(home: Home, work: Callable[[Node], Awaitable[Any]]) -> Any:
    return run_with_node(home, work)


def parse_time(text: str, param: str = "--at") -> int:
    """ISO 8601 ('2026-12-01T18:00', local time unless it names an offset) → ms."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date and time like 2026-12-01T18:00", param_hint=param
        ) from None
    return int(moment.timestamp() * 1000)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


def _who(node: Node, key: bytes) -> str:
    profile = node.profile_of(key)
    return f"{profile.name} ({profile.fingerprint[:9]})"


def _short(event_id: bytes) -> str:
    return event_id.hex()[:12]


def _resolve_person(node: Node, state: CircleState, text: str) -> bytes:
    """'me', a key in hex (whole or ≥ 8 leading digits), or a unique display name."""
    wanted = text.strip().lower()
    if wanted == "me":
        return node.public_key
    people = {member.key for member in state.members} | {p.key for p in node.profiles()}
    by_key = [key for key in people if len(wanted) >= 8 and key.hex().startswith(wanted)]
    if len(by_key) == 1:
        return by_key[0]
    if len(wanted) == 64 and not wanted.strip("0123456789abcdef"):
        return bytes.fromhex(wanted)
    by_name = [key for key in people if node.profile_of(key).name.lower() == wanted]
    if len(by_name) == 1:
        return by_name[0]
    problem = "matches several people" if by_key or by_name else "is nobody known here"
    raise BadInput(f"facilitator {text!r} {problem} (use 'me', a name or a key)")


# -- circle -------------------------------------------------------------------------------


@group()
def circle() -> None:
    """Study circles: create, list, show, join, leave."""


def _rhythm(cadence: str | None, duration: int | None, weeks: int | None) -> Rhythm | None:
    if cadence is None and duration is None and weeks is None:
        return None
    return Rhythm(cadence or "weekly", duration, weeks)


def _circle_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--topic", default=None, help="What the circle learns."),
        click.option("--description", default=None, help="A longer description."),
        click.option(
            "--resource", "resources", multiple=True, metavar="URL", help="A course or resource."
        ),
        click.option("--cadence", type=click.Choice(sorted(CADENCES)), default=None),
        click.option(
            "--duration", type=click.IntRange(1, 1440), default=None, help="Minutes per meeting."
        ),
        click.option("--weeks", type=click.IntRange(1, 520), default=None, help="How many weeks."),
        click.option("--language", default=None, help="Language of the circle, e.g. en."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@circle.command("create", json_lines=True)
@click.argument("slug")
@click.option("--title", "--name", "title", required=True, help="The circle's name.")
@_circle_options
@pass_home
def circle_create(
    home: Home,
    as_json: bool,
    slug: str,
    title: str,
    topic: str | None,
    description: str | None,
    resources: tuple[str, ...],
    cadence: str | None,
    duration: int | None,
    weeks: int | None,
    language: str | None,
) -> None:
    """Start a circle named SLUG (lowercase letters, digits, '.', '-', '_')."""
    fields = {
        "topic": topic or "",
        "description": description or "",
        "resources": [Link(url) for url in resources],
        "rhythm": _rhythm(cadence, duration, weeks),
        "language": language or "",
    }
    _publish(home, as_json, lambda node: node.circles.create(slug, name=title, **fields))


@circle.command("update", json_lines=True)
@click.argument("slug")
@click.option("--title", "--name", "title", default=None, help="A new name.")
@_circle_options
@pass_home
def circle_update(
    home: Home,
    as_json: bool,
    slug: str,
    title: str | None,
    topic: str | None,
    description: str | None,
    resources: tuple[str, ...],
    cadence: str | None,
    duration: int | None,
    weeks: int | None,
    language: str | None,
) -> None:
    """Propose a new version of the circle's description (any member may)."""
    changes: dict[str, Any] = {
        name: value
        for name, value in {
            "name": title,
            "topic": topic,
            "description": description,
            "language": language,
        }.items()
        if value is not None
    }
    if resources:
        changes["resources"] = [Link(url) for url in resources]
    rhythm = _rhythm(cadence, duration, weeks)
    if not changes and rhythm is None:
        raise click.UsageError("nothing to change: give at least one option")

    async def work(node: Node) -> Event:
        current = (await node.circles.state(slug)).rhythm
        if rhythm is not None:  # change only the parts of the rhythm given
            changes["rhythm"] = Rhythm(
                cadence or (current.cadence if current else "weekly"),
                duration or (current.duration_minutes if current else None),
                weeks or (current.weeks if current else None),
            )
        return await node.circles.update(slug, **changes)

    _publish(home, as_json, work)


@circle.command("list", json_lines=True)
@pass_home
def circle_list(home: Home, as_json: bool) -> None:
    """The circles this node knows of."""

    async def work(node: Node) -> list[Any]:
        return await node.circles.known()

    summaries = _read(home, work)
    for summary in summaries:
        if as_json:
            emit_json(summary.to_json())
            continue
        mark = "*" if summary.member else " "
        topic = f"  {summary.topic}" if summary.topic else ""
        click.echo(f"{mark} {summary.slug:20} {summary.title}{topic}  ({summary.members} members)")
    if not summaries and not as_json:
        click.echo("no circles yet (start one with 'peernode circle create')", err=True)


@circle.command("show", json_lines=True)
@click.argument("slug")
@pass_home
def circle_show(home: Home, as_json: bool, slug: str) -> None:
    """A circle: description, rhythm, members, next meeting, open questions."""

    async def work(node: Node) -> list[str] | dict[str, Any]:
        state = await node.circles.state(slug)
        if not state.exists:
            raise BadInput(f"no circle {slug} here (see 'peernode circle list')")
        return state.to_json() if as_json else _describe(node, state)

    result = _read(home, work)
    if as_json:
        emit_json(result)
    else:
        click.echo("\n".join(result))


def _describe(node: Node, state: CircleState) -> list[str]:
    lines = [f"{state.title}  [{state.slug}]"]
    for label, value in (
        ("topic", state.topic),
        ("about", state.description),
        ("rhythm", state.rhythm.describe() if state.rhythm else ""),
        ("language", state.language),
    ):
        if value:
            lines.append(f"{label + ':':10}{value}")
    for link in state.resources:
        lines.append(f"{'resource:':10}{link.title + ' ' if link.title else ''}{link.url}")
    lines.append(f"members ({len(state.members)}):")
    lines += [f"  {_who(node, member.key)}" for member in state.members]
    upcoming = state.next_meeting(now_ms())
    lines.append(f"meetings: {len(state.meetings)}")
    if upcoming:
        lines.append(f"next meeting: {_meeting_line(node, upcoming)}")
    lines.append(f"shared resources: {len(state.shared_resources)}")
    open_questions = state.questions_with("open") + state.questions_with("answered")
    lines.append(f"unresolved questions ({len(open_questions)}):")
    lines += [f"  {_question_line(node, question)}" for question in open_questions]
    return lines


@circle.command("join", json_lines=True)
@click.argument("slug")
@click.option("--message", default="", help="A short hello.")
@pass_home
def circle_join(home: Home, as_json: bool, slug: str, message: str) -> None:
    """Join an open circle."""
    _publish(home, as_json, lambda node: node.circles.join(slug, message))


@circle.command("leave", json_lines=True)
@click.argument("slug")
@click.option("--message", default="", help="A short goodbye.")
@pass_home
def circle_leave(home: Home, as_json: bool, slug: str, message: str) -> None:
    """Leave a circle."""
    _publish(home, as_json, lambda node: node.circles.leave(slug, message))


# -- meeting ------------------------------------------------------------------------------


@group()
def meeting() -> None:
    """Meetings: schedule, list, rsvp, attend, checkin, plusdelta."""


@meeting.command("schedule", json_lines=True)
@click.argument("circle_slug", metavar="CIRCLE")
@click.option("--at", "at", required=True, help="Start, e.g. 2026-12-01T18:00 (local time).")
@click.option("--duration", type=click.IntRange(1, 1440), default=None, help="Minutes.")
@click.option("--place", default="", help="Where.")
@click.option("--facilitator", default=None, help="'me', a name or a key.")
@click.option("--checkin", "checkin_prompt", default="", help="Check-in prompt.")
@click.option("--coursework", default="", help="What to work on.")
@click.option("--activity", default="", help="The activity's title.")
@click.option("--activity-minutes", type=click.IntRange(1, 180), default=None, help="15–20.")
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

    _publish(home, as_json, work)


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
        return [("> " if m is upcoming else "  ") + _meeting_line(node, m) for m in state.meetings]

    for line in _read(home, work):
        if as_json:
            emit_json(line)
        else:
            click.echo(line)


def _meeting_line(node: Node, meeting: Meeting) -> str:
    parts = [_short(meeting.id), _when(meeting.starts_at), minutes_text(meeting.duration_minutes)]
    if meeting.place:
        parts.append(f"at {meeting.place}")
    if meeting.facilitator:
        parts.append(f"facilitator {node.profile_of(meeting.facilitator).name}")
    if meeting.agenda.activity:
        parts.append(f"activity {meeting.agenda.activity.describe()}")
    yes = sum(1 for rsvp in meeting.rsvps if rsvp.answer == "yes")
    parts.append(f"{yes} coming")
    if meeting.attendees:
        parts.append(f"{len(meeting.attendees)} attended")
    return "  ".join(parts)


@meeting.command("rsvp", json_lines=True)
@click.argument("meeting_id", metavar="MEETING")
@click.argument("answer", type=click.Choice(sorted(ANSWERS)))
@pass_home
def meeting_rsvp(home: Home, as_json: bool, meeting_id: str, answer: str) -> None:
    """Say whether you will come (your newest answer counts)."""
    _publish(home, as_json, lambda node: node.circles.rsvp(meeting_id, answer))


@meeting.command("attend", json_lines=True)
@click.argument("meeting_id", metavar="MEETING")
@click.option("--note", default="", help="A short note.")
@pass_home
def meeting_attend(home: Home, as_json: bool, meeting_id: str, note: str) -> None:
    """Sign that you were at a meeting."""
    _publish(home, as_json, lambda node: node.circles.attend(meeting_id, note))


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
    """Check in at a meeting: how you are, what you work on, where you need help."""
    fields = {"feeling": feeling, "working_on": working_on, "need_help": need_help}
    _publish(home, as_json, lambda node: node.circles.check_in(meeting_id, **fields))


@meeting.command("plusdelta", json_lines=True)
@click.argument("meeting_id", metavar="MEETING")
@click.option("--plus", default="", help="One thing that went well.")
@click.option("--delta", default="", help="One thing to change.")
@pass_home
def meeting_plusdelta(home: Home, as_json: bool, meeting_id: str, plus: str, delta: str) -> None:
    """Close a meeting: one plus, one delta."""
    _publish(home, as_json, lambda node: node.circles.plus_delta(meeting_id, plus, delta))


# -- questions and answers ----------------------------------------------------------------


@command(json_lines=True)
@click.argument("circle_slug", metavar="CIRCLE")
@click.argument("title")
@click.option("--text", default="", help="More detail.")
@click.option("--tag", "tags", multiple=True, help="A topic tag (repeatable).")
@pass_home
def ask(
    home: Home,
    as_json: bool,
    circle_slug: str,
    title: str,
    text: str,
    tags: tuple[str, ...],
) -> None:
    """Ask the circle for help."""
    _publish(home, as_json, lambda node: node.circles.ask(circle_slug, title, text, tags))


@command(json_lines=True)
@click.argument("question_id", metavar="QUESTION")
@click.argument("text")
@pass_home
def answer(home: Home, as_json: bool, question_id: str, text: str) -> None:
    """Answer a question (by its id, or ≥ 8 leading hex digits of it)."""
    _publish(home, as_json, lambda node: node.circles.answer(question_id, text))


@command(json_lines=True)
@click.argument("question_id", metavar="QUESTION")
@click.option(
    "--answer", "answer_id", default=None, metavar="ANSWER", help="The answer that helped."
)
@click.option("--note", default="", help="A short note.")
@pass_home
def resolve(
    home: Home,
    as_json: bool,
    question_id: str,
    answer_id: str | None,
    note: str,
) -> None:
    """Mark your question resolved, and which answer helped."""
    _publish(home, as_json, lambda node: node.circles.resolve(question_id, answer_id, note))


@command(json_lines=True)
@click.argument("circle_slug", metavar="CIRCLE")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only these.")
@pass_home
def questions(home: Home, as_json: bool, circle_slug: str, status: str | None) -> None:
    """The questions of CIRCLE with their answers."""

    async def work(node: Node) -> list[Any]:
        state = await node.circles.state(circle_slug)
        chosen = [q for q in state.questions if status is None or q.status == status]
        if as_json:
            return [question.to_json() for question in chosen]
        lines = []
        for question in chosen:
            lines.append(_question_line(node, question))
            lines += [
                f"    {'✓' if a.id == question.helped else '-'} {_short(a.id)}"
                f"  {_who(node, a.author)}: {a.text}"
                for a in question.answers
            ]
        return lines

    for line in _read(home, work):
        if as_json:
            emit_json(line)
        else:
            click.echo(line)


def _question_line(node: Node, question: Question) -> str:
    tags = "".join(f"  #{tag}" for tag in question.tags)
    return (
        f"{_short(question.id)}  [{question.status}]  {question.title}"
        f"  ({_who(node, question.author)}, {len(question.answers)} answers){tags}"
    )


@command(json_lines=True)
@click.argument("circle_slug", metavar="CIRCLE")
@click.argument("topic")
@pass_home
def helpers(home: Home, as_json: bool, circle_slug: str, topic: str) -> None:
    """Who can help with TOPIC: by their profile, or because they answered such questions."""

    async def work(node: Node) -> list[Any]:
        return await node.circles.who_can_help(circle_slug, topic)

    found = _read(home, work)
    for helper in found:
        if as_json:
            emit_json(helper.to_json())
            continue
        why = []
        if helper.profile_match:
            why.append(f"can help with: {helper.can_help}")
        if helper.answers:
            why.append(f"answered {helper.answers} question(s) on it")
        member = "" if helper.member else " (not a member)"
        click.echo(f"{helper.name}{member}  {helper.key.hex()[:16]}  {'; '.join(why)}")
    if not found and not as_json:
        click.echo(f"nobody known here says they can help with {topic!r} yet", err=True)


# -- resources ----------------------------------------------------------------------------


@group()
def resource() -> None:
    """Shared resources: add, list."""


@resource.command("add", json_lines=True)
@click.argument("circle_slug", metavar="CIRCLE")
@click.argument("url")
@click.option("--title", required=True, help="What it is.")
@click.option("--description", default="", help="Why it is useful.")
@click.option("--tag", "tags", multiple=True, help="A topic tag (repeatable, ≤ 16).")
@click.option("--licence", "--license", "licence", default="", help="e.g. CC-BY-4.0.")
@pass_home
def resource_add(
    home: Home,
    as_json: bool,
    circle_slug: str,
    url: str,
    title: str,
    description: str,
    tags: tuple[str, ...],
    licence: str,
) -> None:
    """Share a link with CIRCLE."""
    fields = {"description": description, "tags": tags, "licence": licence}
    _publish(
        home,
        as_json,
        lambda node: node.circles.add_resource(circle_slug, url, title, **fields),
    )


@resource.command("list", json_lines=True)
@click.argument("circle_slug", metavar="CIRCLE")
@pass_home
def resource_list(home: Home, as_json: bool, circle_slug: str) -> None:
    """The links shared with CIRCLE, oldest first."""

    async def work(node: Node) -> CircleState:
        return await node.circles.state(circle_slug)

    state = _read(home, work)
    for shared in state.shared_resources:
        if as_json:
            emit_json(shared.to_json())
            continue
        tags = " ".join(f"#{tag}" for tag in shared.tags)
        click.echo(f"{_short(shared.id)}  {shared.title}  {shared.url}  {tags}".rstrip())


# -- edit, delete -------------------------------------------------------------------------


@command(json_lines=True)
@click.argument("target")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    required=True,
    metavar="FIELD=VALUE",
    help="New value (JSON if it parses as JSON, else text; null removes).",
)
@pass_home
def edit(home: Home, as_json: bool, target: str, assignments: tuple[str, ...]) -> None:
    """Change fields of one of your events (a note, question, answer, meeting, ...)."""
    changes: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{assignment!r} is not FIELD=VALUE", param_hint="--set")
        try:
            changes[name] = json.loads(value)
        except ValueError:
            changes[name] = value
    _publish(home, as_json, lambda node: node.edit(target, changes))


@command(json_lines=True)
@click.argument("target")
@click.option("--reason", default="", help="Why (shown to nobody but kept).")
@pass_home
def delete(home: Home, as_json: bool, target: str, reason: str) -> None:
    """Withdraw one of your events; it disappears wherever circles are shown."""
    _publish(home, as_json, lambda node: node.delete(target, reason))


# -- report -------------------------------------------------------------------------------


@command()
@click.argument("circle_slug", metavar="CIRCLE")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write to this file (default: standard output).",
)
@pass_home
def report(home: Home, circle_slug: str, fmt: str, output: Path | None) -> None:
    """The circle's insights report: attendance, retention, needs, plus/delta, Q&A."""

    async def work(node: Node) -> str:
        return render(await node.circles.report(circle_slug), fmt)

    text = _read(home, work)
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}", err=True)
