"""Commands for the learner's own moderation: mute, block, hide, and undoing them."""

from __future__ import annotations

import click

from peernode.cli.offline import run_with_node
from peernode.cli.options import command, emit_json, pass_home
from peernode.home import Home
from peernode.moderation import ModerationList
from peernode.moderation import text as moderation_text
from peernode.node import Node
from peernode.people import resolve_person
from peernode.storage import Level


async def _person(node: Node, text: str) -> bytes:
    listing = await node.moderation()
    people = {profile.key for profile in node.profiles()}
    people |= {peer.key for peer in await node.known_peers()}
    people |= {person.key for person in listing.people}
    return resolve_person(text, people, node.name_of, what="person")


def _moderate(home: Home, text: str, level: Level) -> None:
    async def work(node: Node) -> str:
        key = await _person(node, text)
        await node.moderate(key, level)
        return moderation_text.done(level, node.name_of(key), key)

    click.echo(run_with_node(home, work))


def _unmoderate(home: Home, text: str, level: Level) -> None:
    async def work(node: Node) -> str:
        key = await _person(node, text)
        was_set = await node.unmoderate(key, level)
        return moderation_text.undone(level, node.name_of(key), key, was_set=was_set)

    click.echo(run_with_node(home, work))


@command()
@click.argument("person", metavar="PERSON")
@pass_home
def mute(home: Home, person: str) -> None:
    """Hide what PERSON writes from your lists (feed, circles, questions); only here."""
    _moderate(home, person, "mute")


@command()
@click.argument("person", metavar="PERSON")
@pass_home
def unmute(home: Home, person: str) -> None:
    """Show what PERSON writes again."""
    _unmoderate(home, person, "mute")


@command()
@click.argument("person", metavar="PERSON")
@pass_home
def block(home: Home, person: str) -> None:
    """Hide PERSON, stop storing and passing on their events, and never link with them."""
    _moderate(home, person, "block")


@command()
@click.argument("person", metavar="PERSON")
@pass_home
def unblock(home: Home, person: str) -> None:
    """Undo a block: PERSON's events arrive again from the room."""
    _unmoderate(home, person, "block")


@command()
@click.argument("event", metavar="EVENT_ID")
@pass_home
def hide(home: Home, event: str) -> None:
    """Hide one event from your own lists (its id, or 8 or more of its first hex digits)."""

    async def work(node: Node) -> str:
        return moderation_text.hidden((await node.hide(event)).id)

    click.echo(run_with_node(home, work))


@command()
@click.argument("event", metavar="EVENT_ID")
@pass_home
def unhide(home: Home, event: str) -> None:
    """Show a hidden event again."""

    async def work(node: Node) -> str:
        found = await node.find_event(event)
        return moderation_text.shown(found.id, was_hidden=await node.unhide(found.id))

    click.echo(run_with_node(home, work))


@command("moderation", json_lines=True)
@pass_home
def moderation(home: Home, as_json: bool) -> None:
    """List whom you muted or blocked and what you hid, newest first."""

    async def work(node: Node) -> ModerationList:
        return await node.moderation()

    listing = run_with_node(home, work)
    if as_json:
        for person in listing.people:
            emit_json(person.to_json())
        for hidden in listing.hidden:
            emit_json(hidden.to_json())
        return
    for line in moderation_text.lines(listing):
        click.echo(line)


COMMANDS = (mute, unmute, block, unblock, hide, unhide, moderation)
"""In the order `peernode --help` lists them."""
