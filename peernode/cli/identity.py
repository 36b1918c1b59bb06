"""Commands about who I am: init, id, profile."""

from __future__ import annotations

import time

import click

from peernode.cli.offline import run_with_node
from peernode.cli.options import command, emit_json, pass_home
from peernode.errors import IdentityExists
from peernode.home import Home
from peernode.node import Node
from peernode.views import Profile


@command()
@click.option("--name", required=True, help="Your display name in the room.")
@click.option("--learning", default="", help="What you are learning.")
@click.option("--can-help", default="", help="What you can help others with.")
@click.option(
    "--new",
    "fresh",
    is_flag=True,
    help="Start a new identity: a lost or damaged key file is moved aside, never deleted.",
)
@pass_home
def init(home: Home, name: str, learning: str, can_help: str, fresh: bool) -> None:
    """Create this node's identity key and profile (safe to run twice)."""
    if fresh:
        aside = home.retire_key(time.strftime("%Y%m%d-%H%M%S"))
        if aside is not None:
            click.echo(f"the old key file is kept as {aside}")

    async def work(node: Node) -> tuple[Profile, bool]:
        if fresh:
            return await node.create_identity(name, learning, can_help, fresh=True), True
        if node.has_profile():
            current = node.my_profile()
            if current.name != name:
                raise IdentityExists(
                    f"already initialised as {current.name!r} ({current.fingerprint}); "
                    "change your name with 'peernode profile --name NAME'"
                )
            return current, False
        return await node.create_identity(name, learning, can_help), True

    profile, created = run_with_node(home, work)
    if created:
        click.echo(f"Created your identity: {profile.name}, fingerprint {profile.fingerprint}.")
    else:
        click.echo(f"Already set up as {profile.name}, fingerprint {profile.fingerprint}.")


@command("id", json_lines=True)
@click.option(
    "--hex", "as_hex", is_flag=True, help="Print the whole public key in hex, to copy it."
)
@pass_home
def show_id(home: Home, as_json: bool, as_hex: bool) -> None:
    """Print my name and fingerprint, the one to compare out loud (never creates a key)."""

    async def work(node: Node) -> Profile:
        return node.profile_of(node.public_key)

    profile = run_with_node(home, work)
    if as_json:
        emit_json(profile.to_json())
    elif as_hex:
        click.echo(profile.key.hex())
    else:
        click.echo(f"{profile.name}  {profile.fingerprint}")


@command(json_lines=True)
@click.option("--name", default=None, help="New display name.")
@click.option("--learning", default=None, help="What you are learning.")
@click.option("--can-help", default=None, help="What you can help others with.")
@pass_home
def profile(
    home: Home,
    as_json: bool,
    name: str | None,
    learning: str | None,
    can_help: str | None,
) -> None:
    """Show my profile, or publish a new version with the given fields changed."""

    async def work(node: Node) -> Profile:
        node.ensure_identity()
        if name is None and learning is None and can_help is None:
            return node.my_profile()
        return await node.update_profile(name=name, learning=learning, can_help=can_help)

    result = run_with_node(home, work)
    if as_json:
        emit_json(result.to_json())
        return
    click.echo(f"name:        {result.name}")
    click.echo(f"fingerprint: {result.fingerprint}")
    click.echo(f"learning:    {result.learning or '-'}")
    click.echo(f"can help:    {result.can_help or '-'}")
