"""The profiles a node knows: the newest one each author signed, and my next version."""

from __future__ import annotations

from typing import Any

from peernode.clock import now_ms
from peernode.errors import BadInput
from peernode.storage.async_store import AsyncStore
from peernode.views import Profile
from protocol import kinds
from protocol.event import Event, load_verified


class ProfileBook:
    """The newest profile of each author among the events held (kept up to date by
    remember(), which sees every event stored)."""

    def __init__(self) -> None:
        self._profiles: dict[bytes, Profile] = {}

    async def load(self, store: AsyncStore) -> None:
        """Read them all from the store again (after events were forgotten)."""
        self._profiles.clear()
        for raw in await store.latest_of_kind(kinds.PROFILE):
            self.remember(load_verified(raw))

    def remember(self, event: Event) -> None:
        """Take a stored event: a profile newer than the one known replaces it."""
        if event.kind != kinds.PROFILE:
            return
        known = self._profiles.get(event.author)
        if known is None or (event.created_at, event.id) > (known.updated_at, b""):
            self._profiles[event.author] = Profile.from_event(event)

    def get(self, key: bytes) -> Profile | None:
        return self._profiles.get(key)

    def of(self, key: bytes) -> Profile:
        """The author's profile, or an unnamed one."""
        return self._profiles.get(key) or Profile.unnamed(key)

    def by_name(self) -> list[Profile]:
        return sorted(self._profiles.values(), key=lambda profile: profile.name.lower())


def next_version(
    current: Profile | None,
    *,
    name: str | None,
    learning: str | None,
    can_help: str | None,
) -> tuple[dict[str, Any], int]:
    """(body, created_at) of my next profile; fields left None keep their value, and it
    is dated after the current one so it replaces it."""
    body = {
        "name": name if name is not None else (current.name if current else ""),
        "learning": learning if learning is not None else (current.learning if current else ""),
        "can_help": can_help if can_help is not None else (current.can_help if current else ""),
    }
    if not body["name"]:
        raise BadInput("a profile needs a name: pass --name NAME")
    return body, max(now_ms(), (current.updated_at + 1) if current else 0)
