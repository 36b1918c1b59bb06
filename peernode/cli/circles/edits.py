"""`peernode edit` and `peernode delete`: change or withdraw one of your own events."""

from __future__ import annotations

import json
from typing import Any

import click

from peernode.cli.app import home_option, json_option
from peernode.cli.circles.common import publish


@click.command()
@home_option
@json_option
@click.argument("target")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    required=True,
    metavar="FIELD=VALUE",
    help="New value (JSON if it parses as JSON, else text; null removes).",
)
@click.pass_context
def edit(
    ctx: click.Context, home: str | None, as_json: bool, target: str, assignments: tuple[str, ...]
) -> None:
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
    publish(ctx, home, as_json, lambda node: node.edit(target, changes))


@click.command()
@home_option
@json_option
@click.argument("target")
@click.option("--reason", default="", help="Why (shown to nobody but kept).")
@click.pass_context
def delete(ctx: click.Context, home: str | None, as_json: bool, target: str, reason: str) -> None:
    """Withdraw one of your events; it disappears wherever circles are shown."""
    publish(ctx, home, as_json, lambda node: node.delete(target, reason))
