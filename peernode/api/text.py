"""What a person reads about the local API: its address and its tokens."""

from __future__ import annotations

from peernode.api.tokens import Token
from peernode.text import local_time


def scopes_text(token: Token) -> str:
    return ", ".join(sorted(token.scopes))


def token_line(token: Token) -> str:
    """A line of `peernode api token list`."""
    origins = f"; from the web pages at {', '.join(sorted(token.origins))}" if token.origins else ""
    return f"{token.name}: may {scopes_text(token)}{origins} (made {local_time(token.created_at)})"


def token_made(name: str, secret: str) -> str:
    """What `peernode api token add` prints: the secret, once."""
    return (
        f"Token {name!r} made. Send it as 'Authorization: Bearer TOKEN'; it is shown only"
        f" now, so keep it somewhere safe:\n{secret}"
    )


def no_api(home: str) -> str:
    return (
        f"no node with its API is running for {home}; start one with 'peernode serve' or 'peernode'"
    )


def port_taken(port: int) -> str:
    return (
        f"port {port} of 127.0.0.1 is taken, so the local API cannot listen there;"
        " choose another --api-port, or leave it out for any free one"
    )
