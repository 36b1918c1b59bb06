"""`peernode resource`: share links with a circle and list them."""

from __future__ import annotations

import click

from peernode.circles.model import MAX_TAGS, CircleState
from peernode.circles.text import resource_line
from peernode.cli.circles.common import publish, read
from peernode.cli.options import emit_json, group, pass_home
from peernode.home import Home
from peernode.node import Node


@group()
def resource() -> None:
    """Shared resources: add, list."""


@resource.command("add", json_lines=True)
@click.argument("circle_slug", metavar="CIRCLE")
@click.argument("url")
@click.option("--title", required=True, help="What it is.")
@click.option("--description", default="", help="Why it is useful.")
@click.option("--tag", "tags", multiple=True, help=f"A topic tag (repeatable, ≤ {MAX_TAGS}).")
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
    publish(
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

    state = read(home, work)
    for shared in state.shared_resources:
        if as_json:
            emit_json(shared.to_json())
        else:
            click.echo(resource_line(shared))
