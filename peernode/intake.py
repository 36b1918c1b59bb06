"""Events into the store: new ones only, verified, admitted, stored and announced."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from peernode.clock import now_ms
from peernode.errors import StorageError
from peernode.health import WriteHealth
from peernode.moderation import Policy
from peernode.ports import IngestResult
from peernode.storage import AsyncStore
from peernode.stream import EventStream
from peernode.verifier import VerifierPool
from protocol.event import Event, event_id

__all__ = ["Intake"]

log = logging.getLogger(__name__)


class Intake:
    """Where every event enters the store: mine (store) and others' (ingest)."""

    def __init__(
        self,
        store: AsyncStore,
        pool: VerifierPool,
        policy: Policy,
        health: WriteHealth,
        stream: EventStream,
        me: Callable[[], bytes | None],
    ) -> None:
        self._store = store
        self._pool = pool
        self._policy = policy
        self._health = health
        self._stream = stream
        self._me = me

    async def ingest(self, raws: Sequence[bytes], sender: bytes | None = None) -> IngestResult:
        """Take events received from elsewhere: drop known ids first, then decline what
        claims a blocked author or a stranger over budget, then verify, then admit
        (strangers within their budget, see peernode.admission), then store.

        sender: the peer they came from; None for events from no peer (the demo room),
        of which only blocked authors' are declined."""
        # Exact copies collapse here; a forged copy (same content, other bytes)
        # must not shadow the genuine one, so only stored ids count as known.
        # When the store cannot take them (disk full, read-only, damaged), nothing
        # is stored and nothing raised: the sender's gossip forgets these ids and
        # offers them again later, so they arrive once the store works again.
        unique = {raw: event_id(raw) for raw in raws}
        try:
            known = await self._store.known_ids(list(set(unique.values())))
        except StorageError as exc:
            self._health.failed(exc)
            return IngestResult(new=[], duplicates=0, rejected=[])
        fresh = [raw for raw, event_id_ in unique.items() if event_id_ not in known]
        duplicates = len(raws) - len(fresh)
        # Strangers over their budget are declined before the signature is checked:
        # they would be declined anyway, and verifying them is most of what a Sybil costs.
        fresh, unverified = await self._policy.screen(fresh, sender)
        # A peer we know (named, remembered, in my circles) is verified ahead of strangers.
        urgent = sender is not None and self._policy.is_familiar(sender)
        good, bad = await self._pool.verify(fresh, urgent=urgent)
        admitted = await self._policy.admit(good, sender)
        before = self._health.problem
        try:
            new = await self.store(admitted.store)
        except StorageError as exc:
            if str(exc) != before:
                log.warning("%s", exc)  # once, not for every batch refused
            new = []
        return IngestResult(
            new=new,
            duplicates=duplicates,
            rejected=bad,
            declined=admitted.declined,
            declined_unverified=unverified,
        )

    async def store(self, events: Sequence[Event]) -> list[Event]:
        """Store events, announce the new ones; StorageError when the store cannot."""
        if not events:
            return []
        received_at = now_ms()
        try:
            rows = await self._store.insert_events_seq(events, received_at)
        except StorageError as exc:
            self._health.failed(exc, say=False)  # the caller gets it
            raise
        self._health.ok()
        self._policy.stored((event for _, event in rows), self._me())
        await self._stream.stored(rows, received_at)
        return [event for _, event in rows]
