"""`peernode file add CIRCLE PATH...`: share files and folders, each path on its own."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from peernode.cli.offline import run_with_node
from peernode.cli.options import command, emit_json, pass_home
from peernode.cli.progress import Counted, Shown
from peernode.errors import BadInput, NodeError
from peernode.files import SharedFile
from peernode.files.sources import bytes_to_copy, problem_of
from peernode.files.text import file_line, shared_text
from peernode.home import Home
from peernode.node import Node
from peernode.problems import check_channel_name
from peernode.text import plural


@command("add", json_lines=True)
@click.argument("circle_slug", metavar="CIRCLE")
@click.argument(
    "paths", metavar="PATH...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@click.option("--title", default="", help="What it is (default: its name); with one PATH only.")
@click.option("--description", default="", help="Why it is useful.")
@click.option("--licence", "--license", "licence", default="", help="e.g. CC-BY-4.0.")
@click.option("--tag", "tags", multiple=True, help="A topic tag (repeatable).")
@pass_home
def file_add(
    home: Home,
    as_json: bool,
    circle_slug: str,
    paths: tuple[Path, ...],
    title: str,
    description: str,
    licence: str,
    tags: tuple[str, ...],
) -> None:
    """Share each PATH with CIRCLE: a file as a file, a folder as one folder.

    A copy is kept (symlinks inside folders are skipped); a bar shows the copying of
    big files. A path that cannot be shared gets one line that says why, and the
    others are shared all the same."""
    if title and len(paths) > 1:
        raise click.UsageError("--title names one file: give it with one PATH only")
    details = {"title": title, "description": description, "licence": licence, "tags": tags}
    wanted = list(dict.fromkeys(paths))

    async def work(node: Node) -> int:
        node.ensure_identity()
        check_channel_name(circle_slug)  # once, not once per path
        failed = 0
        for path in wanted:
            try:
                shared = await add_one(node, path, circle_slug, details, as_json)
            except BadInput as exc:
                click.echo(f"peernode: {exc}", err=True)
                failed += 1
                continue
            echo_shared(shared, as_json)
        return failed

    failed = run_with_node(home, work)
    if failed == len(wanted):
        raise NodeError(f"nothing was shared: fix the {plural(failed, 'path')} above and try again")
    if failed:
        raise NodeError(
            f"{failed} of {plural(len(wanted), 'path')} could not be shared (see above);"
            " the others are shared"
        )


async def add_one(
    node: Node, path: Path, circle: str, details: dict[str, Any], as_json: bool
) -> SharedFile:
    """One path checked, then copied in with a progress bar, then shared (BadInput: why
    not); `details`: title, description, licence, tags."""
    max_size = node.config.files.rules.max_size
    problem = await asyncio.to_thread(problem_of, path, max_size)
    if problem is not None:
        raise BadInput(problem)
    counted = None
    if not as_json:  # stdout is for the records then; a bar would only be noise
        size = await asyncio.to_thread(bytes_to_copy, path)
        counted = Counted(size, Shown(False, label=f"copying {path.name}:", patient=True))
    shared = await node.files.share(
        path,
        circle,
        **details,
        on_copied=counted.add if counted is not None else None,
    )
    if counted is not None:
        counted.finish()
    return shared


def echo_shared(shared: SharedFile, as_json: bool) -> None:
    """What `file add` and `file share` print of a file they shared."""
    if as_json:
        emit_json(shared.to_json())
    else:
        click.echo(shared_text(shared))
        click.echo(file_line(shared))
