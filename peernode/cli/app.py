"""The `peernode` command group, and the one place errors become exit codes."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Final

import click

from peernode.cli.commands import COMMANDS
from peernode.cli.options import group, home_of
from peernode.errors import NodeError
from peernode.problems import explain
from protocol.errors import LocalProtocolError, RemoteProtocolError

EXIT_ERROR: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 130


@group(commands=COMMANDS, invoke_without_command=True)
@click.version_option(package_name="peernode")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """peernode: a study circle on your LAN, with no server.

    Run with no command to open the study room (the terminal UI).
    """
    if ctx.invoked_subcommand is None:
        from peernode.cli.tui_launch import open_tui

        open_tui(home_of(ctx))


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command line (default: sys.argv); errors become one line on stderr.

    Returns the exit code, so tests can run commands in-process exactly as users see them."""
    try:
        code = cli.main(args=argv, prog_name="peernode", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("peernode: aborted", err=True)
        return EXIT_ERROR
    except click.UsageError as exc:
        hint = f" (try '{exc.ctx.command_path} --help')" if exc.ctx else ""
        click.echo(f"peernode: {exc.format_message()}{hint}", err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        click.echo(f"peernode: {exc.format_message()}", err=True)
        return exc.exit_code
    except (NodeError, LocalProtocolError) as exc:
        click.echo(f"peernode: {explain(exc)}", err=True)
        return EXIT_ERROR
    except RemoteProtocolError as exc:  # only stored events are decoded here, unchecked
        click.echo(
            f"peernode: an event in the database does not decode ({exc}); the database"
            " may be damaged: run 'peernode repair'",
            err=True,
        )
        return EXIT_ERROR
    except KeyboardInterrupt:
        click.echo("peernode: interrupted", err=True)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_ERROR
    except OSError as exc:
        click.echo(f"peernode: {exc.strerror or exc}", err=True)
        return EXIT_ERROR
    return code if isinstance(code, int) else 0


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: `run`, then exit with its code when it is not 0."""
    code = run(argv)
    if code:
        sys.exit(code)
