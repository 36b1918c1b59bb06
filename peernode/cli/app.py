"""The command group, shared options, and the one place errors become exit codes."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from peernode.errors import NodeError
from peernode.home import HOME_ENV, Home, resolve_home
from peernode.node import Node, NodeConfig
from protocol.errors import RemoteProtocolError

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

EXIT_ERROR = 1
EXIT_USAGE = 2


def home_option(command: F) -> F:
    """--home on every command, so `peernode post --home X` works as well as
    `peernode --home X post`."""
    return click.option(
        "--home",
        "home",
        type=click.Path(file_okay=False),
        default=None,
        help=f"Node home directory (default: ${HOME_ENV} or the user data dir).",
    )(command)


def json_option(command: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")(
        command
    )


def home_from(ctx: click.Context, home: str | None) -> Home:
    chosen = home or (ctx.obj or {}).get("home")
    return resolve_home(chosen)


def run_with_node(home: Home, work: Callable[[Node], Awaitable[T]]) -> T:
    """Open the node offline (no networking), run `work`, close it.

    No page check at open (it would slow every command on a big database):
    damage shows up, with the way out, when a command reads a damaged page."""

    async def runner() -> T:
        async with Node(home, NodeConfig(watch=False, check_storage=False)) as node:
            return await work(node)

    return asyncio.run(runner())


def emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))


class PeernodeGroup(click.Group):
    """Lists commands in the order they were added, which is the order of use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(cls=PeernodeGroup, invoke_without_command=True)
@home_option
@click.version_option(package_name="peernode")
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """peernode: a study circle on your LAN, with no server.

    Run with no command to open the study room (the terminal UI).
    """
    ctx.obj = {"home": home}
    if ctx.invoked_subcommand is None:
        from peernode.cli.tui_launch import open_tui

        open_tui(resolve_home(home))


def main(argv: list[str] | None = None) -> None:
    """Entry point: errors become one line on stderr and a non-zero exit."""
    from peernode.cli import commands  # noqa: F401  (registers the commands)

    try:
        code = cli.main(args=argv, prog_name="peernode", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Abort:
        click.echo("peernode: aborted", err=True)
        sys.exit(EXIT_ERROR)
    except click.UsageError as exc:
        hint = f" (try '{exc.ctx.command_path} --help')" if exc.ctx else ""
        click.echo(f"peernode: {exc.format_message()}{hint}", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        click.echo(f"peernode: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except NodeError as exc:
        click.echo(f"peernode: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except RemoteProtocolError as exc:  # only stored events are decoded here, unchecked
        click.echo(
            f"peernode: an event in the database does not decode ({exc}); the database"
            " may be damaged: run 'peernode repair'",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        click.echo("peernode: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(EXIT_ERROR)
    except OSError as exc:
        click.echo(f"peernode: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_ERROR)
