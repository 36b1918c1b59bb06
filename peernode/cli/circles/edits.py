"""`peernode edit` and `peernode delete`: change or withdraw one of your own events."""

from __future__ import annotations

import json
from typing import Any

import click

from peernode.cli.circles.common import publish
from peernode.cli.options import command, pass_home
from peernode.home import Home


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
    publish(home, as_json, lambda node: node.edit(target, changes))


@command(json_lines=True)
@click.argument("target")
@click.option("--reason", default="", help="Why (shown to nobody but kept).")
@pass_home
def delete(home: Home, as_json: bool, target: str, reason: str) -> None:
    """Withdraw one of your events; it disappears wherever circles are shown."""
    publish(home, as_json, lambda node: node.delete(target, reason))
