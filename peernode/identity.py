"""The node's identity key: loaded, created on first use (never over a lost one), signing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from peernode.clock import now_ms
from peernode.errors import BadInput, NoIdentity
from peernode.home import Home
from peernode.problems import explain
from peernode.storage import AsyncStore
from protocol.errors import LocalProtocolError
from protocol.event import Event, create_event
from protocol.identity import SigningKey

__all__ = ["KeyHolder"]


class KeyHolder:
    """The home's signing key, or why there is none, and events signed with it."""

    def __init__(self, home: Home) -> None:
        self._home = home
        self.key: SigningKey | None = None
        self._events_without_key = 0
        self._last_signed_at = 0  # created_at of the last event signed here

    def me(self) -> bytes | None:
        """My public key, or None without a key."""
        return self.key.public_key if self.key is not None else None

    async def load(self, store: AsyncStore) -> None:
        """Read the key; without one, count the events here (the key was lost, never
        mint one silently)."""
        if self._home.has_identity():
            self.key = self._home.load_key()
        else:
            self._events_without_key = await store.count()

    def required(self) -> SigningKey:
        """The key, or NoIdentity saying how to create or restore one."""
        if self.key is None:
            self.refuse_if_lost()
            raise NoIdentity(
                f"there is no identity in {self._home.path} yet;"
                " create one with 'peernode init --name NAME'"
            )
        return self.key

    def ensure(self, *, fresh: bool = False) -> SigningKey:
        """The key, created on first use, but never in a home whose events were signed
        by a key that is no longer here (unless `fresh`: 'peernode init --new')."""
        if self.key is None:
            if not fresh:
                self.refuse_if_lost()
            self.key = self._home.create_key()
        return self.key

    def refuse_if_lost(self) -> None:
        if self._events_without_key:
            raise NoIdentity(
                f"the identity key {self._home.key_path} is missing, though this home holds"
                f" {self._events_without_key} events from before; {self._home.restore_hint}"
            )

    def sign(
        self,
        kind: str,
        *,
        circle: str,
        body: Mapping[str, Any],
        refs: Mapping[str, bytes] | None = None,
        created_at: int | None = None,
    ) -> Event:
        """A new event of mine; BadInput when it breaks the kind's rules."""
        if created_at is None:
            # Strictly after the last one signed here: two posts in one millisecond keep
            # the order they were written in (lists break ties by id otherwise).
            created_at = max(now_ms(), self._last_signed_at + 1)
        try:
            event = create_event(
                self.required(),
                kind=kind,
                circle=circle,
                body=body,
                refs=refs,
                created_at=created_at,
            )
        except LocalProtocolError as exc:
            raise BadInput(explain(exc, kind)) from exc
        self._last_signed_at = max(self._last_signed_at, created_at)
        return event
