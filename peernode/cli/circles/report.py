"""`peernode report`: a circle's insights report, as Markdown or one HTML page."""

from __future__ import annotations

from pathlib import Path

import click

from peernode.circles.report_files import FORMATS, render, write_new
from peernode.cli.circles.common import read
from peernode.cli.options import command, pass_home
from peernode.errors import BadInput
from peernode.home import Home
from peernode.node import Node


@command()
@click.argument("circle_slug", metavar="CIRCLE")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write to this file (default: standard output); an existing file is kept.",
)
@click.option("--force", is_flag=True, help="Replace the --output file if it exists.")
@pass_home
def report(home: Home, circle_slug: str, fmt: str, output: Path | None, force: bool) -> None:
    """The circle's insights report: attendance, retention, needs, plus/delta, Q&A."""

    async def work(node: Node) -> str:
        return render(await node.circles.report(circle_slug), fmt)

    text = read(home, work)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        write_new(output, text, replace=force)
    except FileExistsError:
        raise BadInput(
            f"{output} exists already: choose another file, or add --force to replace it."
        ) from None
    click.echo(f"Wrote the report of #{circle_slug} to {output}.", err=True)
