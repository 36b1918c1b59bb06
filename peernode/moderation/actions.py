"""The learner's moderation actions, checked: mute, block, hide, and their undoing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from peernode.errors import BadInput
from peernode.moderation.model import ModerationList
from peernode.moderation.policy import STRUCTURE_KINDS, Policy
from peernode.storage import Level
from protocol.event import Event

__all__ = ["Moderator"]


class Moderator:
    """Moderation as the learner asks for it (nothing is signed or sent): checks what
    may be moderated, changes the policy, and says when blocks changed."""

    def __init__(
        self,
        policy: Policy,
        *,
        me: Callable[[], bytes | None],
        find_event: Callable[[str | bytes], Awaitable[Event]],
        blocks_changed: Callable[[], Awaitable[None]],
    ) -> None:
        self._policy = policy
        self._me = me
        self._find_event = find_event
        self._blocks_changed = blocks_changed

    async def moderate(self, key: bytes, level: Level) -> None:
        """Mute (hide everywhere) or block (hide, neither store nor forward, no links)."""
        if key == self._me():
            raise BadInput("you cannot mute or block yourself")
        if await self._policy.set_level(key, level):
            await self._blocks_changed()

    async def unmoderate(self, key: bytes, level: Level) -> bool:
        """Undo a mute or a block; False when there was none."""
        cleared, blocks_changed = await self._policy.clear_level(key, level)
        if blocks_changed:
            await self._blocks_changed()
        return cleared

    async def hide(self, target: str | bytes) -> Event:
        """Hide one event from my lists (only here, only for me)."""
        event = await self._find_event(target)
        if event.kind in STRUCTURE_KINDS:
            raise BadInput(
                "a circle's versions and memberships cannot be hidden; mute the person instead"
            )
        await self._policy.hide(event.id)
        return event

    async def unhide(self, target: str | bytes) -> bool:
        """Show a hidden event again; False when it was not hidden."""
        event_id = (await self._find_event(target)).id
        return await self._policy.unhide(event_id)

    def listing(self, name_of: Callable[[bytes], str]) -> ModerationList:
        """What I muted, blocked and hid, with names, newest first."""
        return ModerationList.of(self._policy.moderation, name_of)
