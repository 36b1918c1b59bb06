"""`peernode resource`: share links with a circle and list them."""

from __future__ import annotations

import click

from peernode.circles.model import MAX_TAGS, CircleState
from peernode.circles.text import resource_line
from peernode.cli.app import PeernodeGroup, emit_json, home_option, json_option
from peernode.cli.circles.common import keep_home, publish, read
from peernode.node import Node


@click.group(cls=PeernodeGroup)
@home_option
@click.pass_context
def resource(ctx: click.Context, home: str | None) -> None:
    """Shared resources: add, list."""
    keep_home(ctx, home)


@resource.command("add")
@home_option
@json_option
@click.argument("circle_slug", metavar="CIRCLE")
@click.argument("url")
@click.option("--title", required=True, help="What it is.")
@click.option("--description", default="", help="Why it is useful.")
@click.option("--tag", "tags", multiple=True, help=f"A topic tag (repeatable, ≤ {MAX_TAGS}).")
@click.option("--licence", "--license", "licence", default="", help="e.g. CC-BY-4.0.")
@click.pass_context
def resource_add(
    ctx: click.Context,
    home: str | None,
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
        ctx,
        home,
        as_json,
        lambda node: node.circles.add_resource(circle_slug, url, title, **fields),
    )


@resource.command("list")
@home_option
@json_option
@click.argument("circle_slug", metavar="CIRCLE")
@click.pass_context
def resource_list(ctx: click.Context, home: str | None, as_json: bool, circle_slug: str) -> None:
    """The links shared with CIRCLE, oldest first."""

    async def work(node: Node) -> CircleState:
        return await node.circles.state(circle_slug)

    state = read(ctx, home, work)
    for shared in state.shared_resources:
        if as_json:
            emit_json(shared.to_json())
        else:
            click.echo(resource_line(shared))
