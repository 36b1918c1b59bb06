"""What every circle command shares: open the node, sign one event or read, name people."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import click

from peernode.circles.text import done_line
from peernode.cli.offline import run_with_node
from peernode.cli.options import emit_json
from peernode.home import Home
from peernode.node import Node
from peernode.text import NameOf
from protocol.event import Event


def publish(
    home: Home,
    as_json: bool,
    work: Callable[[Node], Awaitable[Event]],
) -> None:
    """Run a command that signs one event; say what it did (or print the event as JSON)."""

    async def run(node: Node) -> tuple[Event, dict[str, Any]]:
        node.ensure_identity()
        event = await work(node)
        return event, node.entry(event).to_json()

    event, result = run_with_node(home, run)
    if as_json:
        emit_json(result)
    else:
        click.echo(done_line(event))


def read(home: Home, work: Callable[[Node], Awaitable[Any]]) -> Any:
    """Run a command that only reads; return what `work` returns."""
    return run_with_node(home, work)


def names(node: Node) -> NameOf:
    """A person's display name, from the profiles this node holds."""
    return lambda key: node.profile_of(key).name
