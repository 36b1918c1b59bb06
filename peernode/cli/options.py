"""What every command shares: --home and --json, the context they fill, the classes adding them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import update_wrapper
from typing import Any, Concatenate, ParamSpec, TypeVar

import click

from peernode.home import HOME_ENV, Home, resolve_home

P = ParamSpec("P")
R = TypeVar("R")

HOME_HELP = f"Node home directory (default: ${HOME_ENV} or the user data dir)."
JSON_HELP = "One JSON object per line."


@dataclass(frozen=True, slots=True)
class CliContext:
    """Click's context object (`ctx.obj`) for every command: what the shared options chose."""

    home: str | None = None
    """--home, from the command itself or else the nearest group above that was given one."""


def _take_home(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    # Runs for every command and group, given or not: a command's own --home wins over a
    # group's (`peernode --home A post --home B` is B), and the root always gets a context.
    if value or not isinstance(ctx.obj, CliContext):
        ctx.obj = CliContext(home=value)


def home_of(ctx: click.Context) -> Home:
    """The command's node home: --home (after the command or before it), else $PEERNODE_HOME,
    else the user data dir."""
    chosen = ctx.find_object(CliContext)
    return resolve_home(chosen.home if chosen else None)


def pass_home(command: Callable[Concatenate[Home, P], R]) -> Callable[P, R]:
    """Call the command with its node home (see `home_of`) as the first argument."""

    def with_home(*args: P.args, **kwargs: P.kwargs) -> R:
        return command(home_of(click.get_current_context()), *args, **kwargs)

    return update_wrapper(with_home, command)


def _home_option() -> click.Option:
    return click.Option(
        ["--home"],
        type=click.Path(file_okay=False),
        default=None,
        expose_value=False,
        callback=_take_home,
        help=HOME_HELP,
    )


def _json_option() -> click.Option:
    return click.Option(["--json", "as_json"], is_flag=True, help=JSON_HELP)


class PeernodeCommand(click.Command):
    """A command taking --home, and --json (as `as_json`) if `json_lines`, before its options."""

    def __init__(self, *args: Any, json_lines: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params[:0] = [_home_option(), *([_json_option()] if json_lines else [])]


class PeernodeGroup(click.Group):
    """A group taking --home, listing its commands in the order they were added (of use).

    Commands and groups made with its `.command()` and `.group()` are Peernode ones too."""

    command_class = PeernodeCommand
    group_class = type

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.insert(0, _home_option())

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


def command(
    name: str | None = None, *, json_lines: bool = False, **attrs: Any
) -> Callable[[Callable[..., Any]], PeernodeCommand]:
    """`click.command` for a `PeernodeCommand`: --home always, --json if `json_lines`."""
    return click.command(name, cls=PeernodeCommand, json_lines=json_lines, **attrs)


def group(name: str | None = None, **attrs: Any) -> Callable[[Callable[..., Any]], PeernodeGroup]:
    """`click.group` for a `PeernodeGroup`: --home, commands in the order of use."""
    return click.group(name, cls=PeernodeGroup, **attrs)


def emit_json(obj: Any) -> None:
    """Print one object as one JSON line (what --json promises)."""
    click.echo(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
