"""`peernode file`: share files and folders with a circle, list them, fetch and save them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from peernode.cli.file_add import add_one, echo_shared, file_add
from peernode.cli.offline import run_with_node
from peernode.cli.options import emit_json, group, pass_home
from peernode.cli.progress import Shown
from peernode.errors import NodeError
from peernode.files import Progress, SharedFile
from peernode.files.text import file_line, holders_text, presence_text
from peernode.home import Home
from peernode.node import Node, NodeConfig
from peernode.text import plural


@group()
def file() -> None:
    """Files and folders shared with a circle: add, list, get, save, pin, export."""


file.add_command(file_add)


@file.command("share", json_lines=True)
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--circle", "circle_slug", required=True, metavar="SLUG", help="The circle.")
@click.option("--title", default="", help="What it is (default: its name).")
@click.option("--description", default="", help="Why it is useful.")
@click.option("--licence", "--license", "licence", default="", help="e.g. CC-BY-4.0.")
@click.option("--tag", "tags", multiple=True, help="A topic tag (repeatable).")
@pass_home
def file_share(
    home: Home,
    as_json: bool,
    path: Path,
    circle_slug: str,
    title: str,
    description: str,
    licence: str,
    tags: tuple[str, ...],
) -> None:
    """The older spelling of 'file add': share PATH with the circle --circle SLUG.

    Kept for scripts; 'peernode file add SLUG PATH...' takes several paths at once."""
    details = {"title": title, "description": description, "licence": licence, "tags": tags}

    async def work(node: Node) -> SharedFile:
        node.ensure_identity()
        return await add_one(node, path, circle_slug, details, as_json)

    echo_shared(run_with_node(home, work), as_json)


@file.command("list", json_lines=True)
@click.argument("circle_slug", metavar="[CIRCLE]", required=False)
@click.option("--peers", "count_peers", is_flag=True, hidden=True)  # the default now
@pass_home
def file_list(home: Home, as_json: bool, circle_slug: str | None, count_peers: bool) -> None:
    """The files shared with CIRCLE (or with every circle), oldest first: id, title and
    name, size, how much is here, and how many laptops linked to the running node have it
    (so whoever shared it knows when they can leave)."""

    async def work(node: Node) -> list[SharedFile]:
        return await node.files.list(circle_slug)

    files = run_with_node(home, work)
    holders = asyncio.run(_holders(home, files)) if files else None
    for shared in files:
        count = None if holders is None else holders[shared.id]
        if as_json:
            emit_json({**shared.to_json(), "peers": count})
        elif count is not None:
            click.echo(f"{file_line(shared)}  {holders_text(count)}")
        else:
            click.echo(file_line(shared))
    if not files and not as_json:
        click.echo("no files shared here yet (see 'peernode file add')", err=True)
    elif holders is None and not as_json:
        click.echo(
            "how many laptops have each file shows while peernode runs"
            " ('peernode serve' or the study room)",
            err=True,
        )


async def _holders(home: Home, files: list[SharedFile]) -> dict[bytes, int] | None:
    """How many linked laptops hold each file, asked of the running node (None: none runs)."""
    from peernode.net import control

    async def count(shared: SharedFile) -> int:
        answer = await control.call(home, "file_holders", {"id": shared.id.hex()})
        return int(answer["holders"])

    try:
        counts = await asyncio.gather(*map(count, files))
    except NodeError:  # no node runs, or it is not networked
        return None
    return {shared.id: number for shared, number in zip(files, counts, strict=True)}


@file.command("get", json_lines=True)
@click.argument("ref", metavar="ID")
@click.option(
    "--to", "destination", type=click.Path(path_type=Path), help="Also save a copy there."
)
@click.option("--peer", "peers", multiple=True, metavar="HOST[:PORT]", help="Fetch from here too.")
@click.option(
    "--in-order", is_flag=True, help="First parts first, so a video can play while it arrives."
)
@click.option(
    "--no-mdns", is_flag=True, help="Do not look for peers by mDNS (with no node running)."
)
@pass_home
def file_get(
    home: Home,
    as_json: bool,
    ref: str,
    destination: Path | None,
    peers: tuple[str, ...],
    in_order: bool,
    no_mdns: bool,
) -> None:
    """Fetch a shared file or folder from every laptop that has it, verifying each chunk.

    The running node for this home fetches it, if one runs; otherwise this command
    links to the room itself until the file is here. Exits 0 only when it is all here."""
    shown = Shown(as_json)
    shared = asyncio.run(_through_running_node(home, ref, shown, in_order))
    if shared is None:
        shared = _by_itself(home, ref, peers, shown, in_order, mdns=not no_mdns)
    if not shared.complete:  # exit 0 means all here and verified, nothing less
        raise NodeError(
            f"{shared.name} is not all here yet ({presence_text(shared)}):"
            " run the same command again to fetch the rest"
        )
    shown.show(Progress(shared.blob, shared.size, shared.size, 0.0, 0, True), last=True)
    if destination is not None:
        saved = run_with_node(home, lambda node: node.files.save(ref, destination))
        click.echo(f"saved a copy as {saved}", err=True)


async def _through_running_node(
    home: Home, ref: str, shown: Shown, in_order: bool
) -> SharedFile | None:
    """Fetched by the node running on this home; None when none runs."""
    from peernode.net import control

    async with Node(home, NodeConfig(watch=False, check_storage=False)) as node:
        try:
            await node.attach()
        except control.NotRunning:
            return None
        return await node.files.get(ref, shown.show, in_order=in_order)


def _by_itself(
    home: Home, ref: str, peers: tuple[str, ...], shown: Shown, in_order: bool, *, mdns: bool
) -> SharedFile:
    """Fetched by a node this command runs, linked to the room until the file is here."""
    from peernode.net.config import NetworkConfig, parse_address

    addresses = tuple(parse_address(peer) for peer in peers)
    network = NetworkConfig(peers=addresses, mdns=mdns)

    async def work() -> SharedFile:
        async with Node(home, NodeConfig(network=network)) as node:
            node.ensure_identity()
            await node.start_network()
            await node.files.find_soon(ref)  # its event may still be on its way
            return await node.files.get(ref, shown.show, in_order=in_order)

    return asyncio.run(work())


@file.command("save")
@click.argument("ref", metavar="ID")
@click.argument("destination", metavar="DEST", type=click.Path(path_type=Path))
@pass_home
def file_save(home: Home, ref: str, destination: Path) -> None:
    """Save a copy of a fetched file or folder: into DEST if it is a folder, else as DEST.
    Nothing is ever overwritten."""
    saved = run_with_node(home, lambda node: node.files.save(ref, destination))
    click.echo(f"saved {saved}")


@file.command("pin")
@click.argument("ref", metavar="ID")
@pass_home
def file_pin(home: Home, ref: str) -> None:
    """Keep a fetched file or folder on this laptop, even once no circle needs it."""
    shared = run_with_node(home, lambda node: node.files.pin(ref))
    click.echo(f"{shared.name} stays on this laptop (unpin with 'peernode file unpin')")


@file.command("unpin")
@click.argument("ref", metavar="ID")
@pass_home
def file_unpin(home: Home, ref: str) -> None:
    """Let a file go again once nothing needs it (after a grace period)."""
    shared = run_with_node(home, lambda node: node.files.pin(ref, pinned=False))
    click.echo(f"{shared.name} is no longer pinned")


@file.command("export")
@click.argument("ref", metavar="[ID]", required=False)
@click.argument("out", metavar="OUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--circle", "circle_slug", metavar="SLUG", help="A whole circle instead of one file.")
@pass_home
def file_export(home: Home, ref: str | None, out: Path, circle_slug: str | None) -> None:
    """Put a file (or, with --circle, a whole circle: its events and the files of it here)
    in one file OUT, for a USB stick; 'peernode file import' takes it on another laptop."""
    if (ref is None) == (circle_slug is None):
        raise click.UsageError("give either a file's ID or --circle SLUG")
    events, blobs = run_with_node(
        home, lambda node: node.files.export(out, ref=ref, circle=circle_slug)
    )
    click.echo(f"wrote {out}: {plural(events, 'event')}, {plural(blobs, 'file')}")


@file.command("import")
@click.argument(
    "source", metavar="BUNDLE", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@pass_home
def file_import(home: Home, source: Path) -> None:
    """Take what 'peernode file export' wrote: every event verified, every file hashed."""
    new, blobs, refused = run_with_node(home, lambda node: node.files.import_bundle(source))
    click.echo(f"imported {plural(new, 'new event')} and {plural(blobs, 'file')}")
    if refused:
        raise NodeError(
            f"{plural(refused, 'item')} of {source} did not match what they claim to be and"
            " were left out; ask for a fresh copy"
        )
