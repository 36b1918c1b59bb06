"""`peernode api`: the local API's address, and the tokens that open it."""

from __future__ import annotations

import click

from peernode.api.text import no_api, token_line, token_made
from peernode.api.tokens import SCOPES, TokenBook
from peernode.cli.options import emit_json, group, pass_home
from peernode.clock import now_ms
from peernode.errors import NodeError
from peernode.home import Home


@group()
def api() -> None:
    """The local API for bots, scripts and web pages: url, token."""


@api.command("url", json_lines=True)
@pass_home
def api_url(home: Home, as_json: bool) -> None:
    """The base URL of the running node's API (loopback only)."""
    from peernode.net.control import RuntimeInfo

    info = RuntimeInfo.read(home)
    if info is None or info.api_port is None:
        raise NodeError(no_api(str(home.path)))
    url = f"http://127.0.0.1:{info.api_port}"
    if as_json:
        emit_json(
            {
                "url": url,
                "port": info.api_port,
                "stream": f"ws://127.0.0.1:{info.api_port}/v1/stream",
            }
        )
    else:
        click.echo(url)


@api.group()
def token() -> None:
    """Tokens of the API: add, list, remove."""


@token.command("add", json_lines=True)
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    type=click.Choice(SCOPES),
    multiple=True,
    help="What it may do (repeatable; default read; admin may do everything).",
)
@click.option(
    "--origin",
    "origins",
    multiple=True,
    metavar="URL",
    help="A web page that may use it, as http://host:port (repeatable; default none).",
)
@pass_home
def token_add(
    home: Home, as_json: bool, name: str, scopes: tuple[str, ...], origins: tuple[str, ...]
) -> None:
    """Make a token NAME; its secret is shown once."""
    home.ensure()
    secret = TokenBook(home).add(name, set(scopes), set(origins), now_ms())
    if as_json:
        emit_json({"name": name, "scopes": sorted(scopes or ("read",)), "token": secret})
    else:
        click.echo(token_made(name, secret))


@token.command("list", json_lines=True)
@pass_home
def token_list(home: Home, as_json: bool) -> None:
    """The tokens (never their secrets)."""
    tokens = TokenBook(home).tokens()
    if not tokens and not as_json:
        click.echo("No tokens yet; make one with 'peernode api token add NAME'.")
    for item in tokens:
        click.echo(token_line(item)) if not as_json else emit_json(item.to_json())


@token.command("remove")
@click.argument("name")
@pass_home
def token_remove(home: Home, name: str) -> None:
    """Remove the token NAME: it no longer opens the API, at once."""
    TokenBook(home).remove(name)
    click.echo(f"Token {name!r} removed.")
