"""A channel's feed as the learner reads it, and editing or deleting my events in it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from peernode.circles.bodies import compact
from peernode.circles.derive import NotEditable, apply_edits_and_deletes, edited_body, order
from peernode.circles.service import CircleService
from peernode.clock import ShownKey, now_ms
from peernode.errors import BadInput
from peernode.ports import CircleNode
from peernode.problems import explain, not_editable
from peernode.storage import AsyncStore
from peernode.stream import EventStream
from peernode.views import FeedEntry
from protocol import kinds
from protocol.errors import InvalidEvent
from protocol.event import Event, load_verified

__all__ = ["Feed"]


class Feed:
    """Reading a channel with edits and deletes applied, and writing them."""

    def __init__(
        self, node: CircleNode, store: AsyncStore, stream: EventStream, circles: CircleService
    ) -> None:
        self._node = node
        self._store = store
        self._stream = stream
        self._circles = circles

    async def entries(
        self,
        channel: str | None,
        *,
        limit: int | None,
        before: ShownKey | None,
        after: ShownKey | None,
    ) -> list[FeedEntry]:
        """Events newest last; page backwards with `before`, forwards with `after`.

        Order and cursors are FeedEntry.key, (shown_at, created_at, id): the
        author's claim bounded by when it arrived, see peernode.clock.

        Edits and deletes are applied (only an author's own count) rather than
        listed: an edited note shows its new body, a deleted one no content.
        Muted, blocked and hidden events are left out.
        """
        rows = await self._store.feed(
            channel,
            limit=limit,
            before=before,
            after=after,
            exclude_kinds=(kinds.EDIT, kinds.DELETE),
            visible=True,
        )
        events = [load_verified(row.raw) for row in rows]
        changes = await self._store.referring_any([event.id for event in events], "target")
        live = apply_edits_and_deletes(sorted([*events, *map(load_verified, changes)], key=order))
        return [
            FeedEntry(
                event,
                self._node.profile_of(event.author).name,
                row.received_at,
                edited_body=live.bodies.get(event.id),
                deleted=event.id in live.deleted,
            )
            for event, row in zip(events, rows, strict=True)
        ]

    def entry(self, event: Event, received_at: int | None = None) -> FeedEntry:
        """A FeedEntry for an event from the subscription (or one just published).

        received_at defaults to the arrival the node recorded when it announced the
        event, so the entry sorts exactly where the stored one does; else now.
        """
        if received_at is None:
            received_at = self._stream.arrival(event.id)
        when = now_ms() if received_at is None else received_at
        return FeedEntry(event, self._node.profile_of(event.author).name, when)

    async def edit(self, target: str | bytes, changes: Mapping[str, Any]) -> Event:
        """Publish new values for fields of my event (None removes an optional field)."""
        event = await self._own_event(target)
        state = await self._circles.state(event.circle)
        try:
            edited_body(event.kind, state.bodies.get(event.id, event.body), changes)
        except NotEditable as exc:
            raise BadInput(not_editable(event.kind)) from exc
        except InvalidEvent as exc:
            raise BadInput(explain(exc, event.kind)) from exc
        after = max(event.created_at, await self._node.latest_mine_referring(event.id, "target"))
        refs = {"target": event.id}
        return await self._node.publish_after(kinds.EDIT, event.circle, dict(changes), refs, after)

    async def delete(self, target: str | bytes, reason: str = "") -> Event:
        """Withdraw my event; the tombstone keeps it from coming back through sync."""
        event = await self._own_event(target)
        if event.kind == kinds.DELETE:
            raise BadInput("a delete cannot be deleted")
        if event.kind in kinds.CHALLENGE_KINDS:  # signed work and reviews are badges' proofs
            raise BadInput(
                "challenges, work and reviews stay, as the proof of badges:"
                " write a new version, revision or review instead"
            )
        body = compact({"reason": reason})
        refs = {"target": event.id}
        return await self._node.publish_after(
            kinds.DELETE, event.circle, body, refs, event.created_at
        )

    async def _own_event(self, target: str | bytes) -> Event:
        event = await self._node.find_event(target)
        if event.author != self._node.public_key:
            raise BadInput("you can only edit or delete your own events")
        return event
