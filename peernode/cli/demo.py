"""`peernode demo`: the study room with simulated learners, to try peernode alone."""

from __future__ import annotations

import click

from peernode.cli.app import cli, home_from, home_option


@cli.command()
@home_option
@click.pass_context
def demo(ctx: click.Context, home: str | None) -> None:
    """Open the study room with a demo circle of simulated learners.

    A few learners marked "(demo)" run on this laptop, in #demo-study-circle,
    and answer what you write there. Your node listens only on this laptop
    meanwhile. When you quit they stop; of their notes, only those you
    replied to stay in your node.
    """
    from peernode.cli.tui_launch import open_tui

    open_tui(home_from(ctx, home), demo=True)
