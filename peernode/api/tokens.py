"""API tokens: made by `peernode api token add`, kept hashed in the home, checked per request.

Rules of this file:
- The secret is shown once, when made; the file holds only its SHA-256 (a token is 32
  random bytes, so a plain hash is enough: there is nothing to guess).
- The file is written whole and replaced (mode 0600); a running node reads it again
  when it changes, so a token added or removed counts at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from typing import Final

from peernode.errors import BadInput, NodeError
from peernode.home import Home

TOKENS_FILE: Final = "api_tokens.json"
PREFIX: Final = "pn1_"
SCOPES: Final = ("read", "post", "files", "admin")
"""read: every GET and the stream; post: publish events; files: the file actions;
admin: all of these, and the node's own settings (linking to peers)."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ORIGIN = re.compile(r"^https?://[^/\s]+$")


@dataclass(frozen=True, slots=True)
class Token:
    """A token as stored: its name, what it may do, the web origins it may be used from."""

    name: str
    scopes: frozenset[str]
    origins: frozenset[str]
    digest: str
    created_at: int

    def allows(self, scope: str) -> bool:
        """Every token may read; admin may do anything."""
        return scope == "read" or scope in self.scopes or "admin" in self.scopes

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "scopes": sorted(self.scopes),
            "origins": sorted(self.origins),
            "created_at": self.created_at,
        }


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenBook:
    """The tokens of one home."""

    def __init__(self, home: Home) -> None:
        self._path = home.path / TOKENS_FILE
        self._stamp: tuple[int, int] | None = None
        self._by_digest: dict[str, Token] = {}

    def tokens(self) -> list[Token]:
        """Every token, by name."""
        self._refresh()
        return sorted(self._by_digest.values(), key=lambda token: token.name)

    def find(self, secret: str) -> Token | None:
        """The token whose secret this is, if any."""
        self._refresh()
        return self._by_digest.get(digest(secret))

    def allowed_origins(self) -> frozenset[str]:
        """Every origin some token may be used from (a preflight carries no token)."""
        self._refresh()
        return frozenset().union(*(token.origins for token in self._by_digest.values()))

    def add(self, name: str, scopes: set[str], origins: set[str], now: int) -> str:
        """Make a token; returns its secret (shown once, never stored)."""
        if not _NAME.match(name):
            raise BadInput(
                "a token name is 1 to 64 letters, digits, '.', '_' or '-', starting with a"
                " letter or digit"
            )
        if unknown := scopes - set(SCOPES):
            raise BadInput(f"unknown scope {sorted(unknown)[0]!r}; choose {', '.join(SCOPES)}")
        if bad := [origin for origin in origins if not _ORIGIN.match(origin)]:
            raise BadInput(f"{bad[0]!r} is not a web origin; write it as http://host:port")
        tokens = self.tokens()
        if any(token.name == name for token in tokens):
            raise BadInput(
                f"a token named {name!r} exists; remove it first with"
                f" 'peernode api token remove {name}'"
            )
        secret = PREFIX + secrets.token_urlsafe(32)
        token = Token(name, frozenset(scopes or {"read"}), frozenset(origins), digest(secret), now)
        self._write([*tokens, token])
        return secret

    def remove(self, name: str) -> None:
        tokens = self.tokens()
        kept = [token for token in tokens if token.name != name]
        if len(kept) == len(tokens):
            raise BadInput(f"there is no token named {name!r}; see 'peernode api token list'")
        self._write(kept)

    def _refresh(self) -> None:
        try:
            stat = os.stat(self._path)
        except FileNotFoundError:
            self._stamp, self._by_digest = None, {}
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        try:
            entries = json.loads(self._path.read_text())["tokens"]
            tokens = [_token(entry) for entry in entries]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise NodeError(
                f"{self._path} cannot be read; remove it and add the tokens again"
            ) from exc
        self._stamp, self._by_digest = stamp, {token.digest: token for token in tokens}

    def _write(self, tokens: list[Token]) -> None:
        entries = [{**token.to_json(), "sha256": token.digest} for token in tokens]
        temp = self._path.with_suffix(".tmp")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump({"tokens": entries}, handle, indent=1)
            os.replace(temp, self._path)
        except OSError as exc:
            raise NodeError(f"cannot write {self._path}: {exc.strerror}") from exc
        self._stamp = None


def _token(entry: dict[str, object]) -> Token:
    scopes, origins = entry["scopes"], entry["origins"]
    if not isinstance(scopes, list) or not isinstance(origins, list):
        raise TypeError("scopes and origins are lists")
    created_at = entry["created_at"]
    if not isinstance(created_at, int):
        raise TypeError("created_at is an integer")
    return Token(
        str(entry["name"]),
        frozenset(map(str, scopes)),
        frozenset(map(str, origins)),
        str(entry["sha256"]),
        created_at,
    )
