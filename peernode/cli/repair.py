"""`peernode repair`: set a damaged database aside, keep what still reads, re-sync the rest."""

from __future__ import annotations

import time
from pathlib import Path

import click

from peernode.cli.options import command, pass_home
from peernode.errors import NodeError, StorageError
from peernode.home import Home
from peernode.storage import Salvage, Store, check_file, salvage_from

REPAIRING_SUFFIX = ".repairing"


@command()
@click.option("--force", is_flag=True, help="Rebuild the database even if its pages check out.")
@pass_home
def repair(where: Home, force: bool) -> None:
    """Move a damaged database aside, keep every event that still reads and verifies,
    and let the node fetch the rest from its peers."""
    if not where.db_path.exists():
        click.echo(f"no database in {where.path}: nothing to repair")
        return
    _refuse_if_running(where)
    problem = check_file(where.db_path)
    if problem is None and not force:
        click.echo(f"{where.db_path} checks out: nothing to repair (--force rebuilds it anyway)")
        return
    click.echo(f"{where.db_path}: {problem or 'rebuilding on request'}")
    aside, salvage = _rebuild(where)
    kept = [path.name.removeprefix(aside.name) for path in where.database_files(aside)[1:]]
    also = f" (with its {' and '.join(kept)})" if kept else ""
    click.echo(f"moved the old database aside: {aside}{also}")
    click.echo(
        f"salvaged {salvage.stored} events into a fresh database"
        f" ({salvage.invalid} failed verification, {salvage.unreadable} rows did not read);"
        f" kept {salvage.peers} known peers"
    )
    click.echo(
        "the rest comes back from peers: run 'peernode serve' or open peernode"
        " (add --peer HOST:PORT if no peer is found by itself)"
    )


def _refuse_if_running(home: Home) -> None:
    from peernode.net.control import RuntimeInfo

    running = RuntimeInfo.read(home)
    if running is not None:
        raise NodeError(
            f"a node is running on {home.path} (pid {running.pid}); stop it, then run"
            " 'peernode repair' again"
        )


def _rebuild(home: Home) -> tuple[Path, Salvage]:
    """Salvage into a new file beside the database, then swap the two."""
    fresh_path = home.db_path.with_name(home.db_path.name + REPAIRING_SUFFIX)
    for leftover in home.database_files(fresh_path):  # an earlier repair cut short
        leftover.unlink(missing_ok=True)
    fresh = Store(fresh_path)
    try:
        salvage = salvage_from(fresh, home.db_path)
        result = fresh.integrity_check()
        if result != "ok":
            raise StorageError(f"the rebuilt database does not check out ({result}); nothing moved")
        fresh.checkpoint()
    finally:
        fresh.close()
    for companion in home.database_files(fresh_path)[1:]:
        companion.unlink()  # emptied by the checkpoint; the new file stands alone
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return home.replace_database(fresh_path, stamp), salvage
