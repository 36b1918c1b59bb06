"""`peernode circle`: create, update, list, show, join and leave study circles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from peernode.challenges.text import who_is_on
from peernode.circles.model import (
    CADENCES,
    MAX_RHYTHM_MINUTES,
    MAX_WEEKS,
    MIN_MINUTES,
    MIN_WEEKS,
    ResourceLink,
    Rhythm,
)
from peernode.circles.text import circle_lines, summary_line
from peernode.cli.circles.common import names, publish, read
from peernode.cli.options import emit_json, group, pass_home
from peernode.clock import now_ms
from peernode.errors import BadInput
from peernode.home import Home
from peernode.node import Node
from protocol.event import Event


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
            "--duration",
            type=click.IntRange(MIN_MINUTES, MAX_RHYTHM_MINUTES),
            default=None,
            help="Minutes per meeting.",
        ),
        click.option(
            "--weeks",
            type=click.IntRange(MIN_WEEKS, MAX_WEEKS),
            default=None,
            help="How many weeks.",
        ),
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
        "resources": [ResourceLink(url) for url in resources],
        "rhythm": _rhythm(cadence, duration, weeks),
        "language": language or "",
    }
    publish(home, as_json, lambda node: node.circles.create(slug, name=title, **fields))


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
        changes["resources"] = [ResourceLink(url) for url in resources]
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

    publish(home, as_json, work)


@circle.command("list", json_lines=True)
@pass_home
def circle_list(home: Home, as_json: bool) -> None:
    """The circles this node knows of."""

    async def work(node: Node) -> list[Any]:
        return await node.circles.known()

    summaries = read(home, work)
    for summary in summaries:
        if as_json:
            emit_json(summary.to_json())
        else:
            click.echo(summary_line(summary))
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
        if as_json:
            return state.to_json()
        challenges = await node.challenges.in_circle(slug)
        return circle_lines(state, names(node), now_ms()) + who_is_on(challenges, names(node))

    result = read(home, work)
    if as_json:
        emit_json(result)
    else:
        click.echo("\n".join(result))


@circle.command("join", json_lines=True)
@click.argument("slug")
@click.option("--message", default="", help="A short hello.")
@pass_home
def circle_join(home: Home, as_json: bool, slug: str, message: str) -> None:
    """Join an open circle."""
    publish(home, as_json, lambda node: node.circles.join(slug, message))


@circle.command("leave", json_lines=True)
@click.argument("slug")
@click.option("--message", default="", help="A short goodbye.")
@pass_home
def circle_leave(home: Home, as_json: bool, slug: str, message: str) -> None:
    """Leave a circle."""
    publish(home, as_json, lambda node: node.circles.leave(slug, message))
