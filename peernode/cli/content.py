"""Commands about content: post, feed, import."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from peernode.cli.circles.common import publish
from peernode.cli.offline import run_with_node
from peernode.cli.options import command, emit_json, pass_home
from peernode.feed_text import FeedContext, folded, show_entry
from peernode.home import Home
from peernode.importer import ImportSummary, import_notes, read_lines
from peernode.node import DEFAULT_CHANNEL, Node
from peernode.text import clock_note, local_time, name_and_fingerprint, plural, short_id
from peernode.views import CIRCLE_KINDS, FeedEntry
from protocol.event import Event


@command(json_lines=True)
@click.argument("text")
@click.option(
    "--channel",
    "--circle",
    "channel",
    default=DEFAULT_CHANNEL,
    show_default=True,
    help="Channel to post in (a study circle's slug posts in that circle).",
)
@click.option(
    "--reply-to",
    default=None,
    metavar="EVENT_ID",
    help="The note answered: its id, or 8 or more of its first hex digits.",
)
@pass_home
def post(
    home: Home,
    as_json: bool,
    text: str,
    channel: str,
    reply_to: str | None,
) -> None:
    """Sign and store a note (a running node gossips it to the room)."""
    publish(home, as_json, lambda node: _post(node, text, channel, reply_to))


async def _post(node: Node, text: str, channel: str, reply_to: str | None) -> Event:
    parent = (await node.find_event(reply_to)).id if reply_to else None
    return await node.post(text, channel=channel, reply_to=parent)


@command(json_lines=True)
@click.option(
    "--channel", "--circle", "channel", default=None, help="Only this channel (default: all)."
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the newest N.")
@pass_home
def feed(home: Home, as_json: bool, channel: str | None, limit: int | None) -> None:
    """List events, newest last (RSVPs and attendance show in their meeting)."""

    async def work(node: Node) -> list[tuple[FeedEntry, str]]:
        entries = await node.feed(channel, limit=limit)
        context = await feed_context(node, entries)
        return [(entry, _render(entry, context)) for entry in entries]

    for entry, text in run_with_node(home, work):
        if as_json:
            emit_json(entry.to_json())
        elif not folded(entry):
            click.echo(text)


async def feed_context(node: Node, entries: list[FeedEntry]) -> FeedContext:
    """Names, and the state of every circle of `entries` that has circle events in them."""
    slugs = {entry.event.circle for entry in entries if entry.event.kind in CIRCLE_KINDS}
    circles = {slug: await node.circles.state(slug) for slug in sorted(slugs)}
    return FeedContext(node.name_of, circles)


def _render(entry: FeedEntry, context: FeedContext) -> str:
    event = entry.event
    when = local_time(entry.shown_at) + clock_note(entry.clock)
    who = name_and_fingerprint(entry.author_name, event.author)
    where = f"#{event.circle}" if event.circle else ""
    marks = (" ↳ reply" if "reply_to" in event.refs else "") + (" (edited)" if entry.edited else "")
    shown = show_entry(entry, context)
    lines = "\n".join("    " + line for line in shown.lines() or [""])
    return f"{when}  {who}  {where}{marks}  {short_id(event.id)}\n{lines}"


@command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--progress",
    "progress_lines",
    is_flag=True,
    help="Print 'stored N of M' after each batch is safely on disk (for scripts).",
)
@pass_home
def import_(home: Home, file: Path, progress_lines: bool) -> None:
    """Sign and store notes from a JSON-lines file: {"circle": ..., "text": ...} per line.

    Lines with a created_at give the same events every time: after an interrupted
    import, running it again stores only what is missing."""
    notes = read_lines(file)
    started = time.monotonic()

    def stored(done: int) -> None:
        # The first `done` lines are committed (synchronous=FULL) before this prints.
        click.echo(f"stored {done} of {len(notes)}")
        sys.stdout.flush()

    async def work(node: Node) -> ImportSummary:
        if progress_lines:
            return await import_notes(node, notes, stored)
        if not sys.stderr.isatty():
            return await import_notes(node, notes)
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        columns = (
            "{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("signing and storing", total=len(notes))
            return await import_notes(node, notes, lambda done: bar.update(task, completed=done))

    summary = run_with_node(home, work)
    seconds = time.monotonic() - started
    click.echo(
        f"imported {plural(summary.imported, 'note')} into {plural(len(summary.circles), 'circle')}"
        f" in {seconds:.1f} s ({summary.already_present} already present)"
    )
