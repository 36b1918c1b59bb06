"""The stream of newly stored events: every one announced once, in store order, to subscribers.

Rules of this file:
- Events stored by this node are announced as they are stored, without reading
  them back; events another process stored (a CLI command beside a running node)
  are found by pump(), which reads what the store holds after the last one seen.
- The pump lock orders the two, so no event is announced twice or skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from peernode.storage.async_store import AsyncStore
from protocol.event import Event, load_verified

PUMP_BATCH: Final = 2000
"""Stored events read at a time when catching up with what others wrote."""
RECENT_ARRIVALS: Final = 20_000
"""Arrival times remembered for just-announced events, so a subscriber's entry()
orders them exactly as the store does (twice a subscription's queue)."""
SUBSCRIPTION_QUEUE: Final = 10_000
"""Events a subscription holds before it overflows."""


@dataclass(slots=True)
class Subscription:
    """A live stream of newly stored events, for one consumer.

    Bounded: a consumer that falls far behind gets `overflowed` set and should
    reload what it shows, rather than the node holding events without limit.
    """

    queue: asyncio.Queue[Event] = field(
        default_factory=lambda: asyncio.Queue(maxsize=SUBSCRIPTION_QUEUE)
    )
    overflowed: bool = False

    def offer(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True

    def take_overflow(self) -> bool:
        """True once after events were dropped (the queue was full): reload what you show."""
        overflowed, self.overflowed = self.overflowed, False
        return overflowed

    def drain(self, limit: int) -> list[Event]:
        """Up to `limit` events already waiting, without blocking."""
        events: list[Event] = []
        while len(events) < limit and not self.queue.empty():
            events.append(self.queue.get_nowait())
        return events

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()


class EventStream:
    """Announces the events of one store to its subscribers.

    on_event: called for every announced event first (the node learns profiles there).
    """

    def __init__(self, store: AsyncStore, *, on_event: Callable[[Event], None]) -> None:
        self._store = store
        self._on_event = on_event
        self._subscribers: list[Subscription] = []
        self._arrivals: dict[bytes, int] = {}
        self._seen_seq = 0
        self._data_version: int | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        """Start after what the store holds now: that is not new."""
        self._seen_seq = await self._store.max_seq()

    def subscribe(self) -> Subscription:
        subscription = Subscription()
        self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(subscription)

    def arrival(self, event_id: bytes) -> int | None:
        """When a recently announced event was stored here (its received_at), if known."""
        return self._arrivals.get(event_id)

    async def stored(self, rows: Sequence[tuple[int, Event]], received_at: int) -> None:
        """Announce events this node just stored, with their sequence numbers."""
        async with self._lock:
            if rows and rows[0][0] == self._seen_seq + 1 and _contiguous(rows):
                # Nobody else wrote in between: announce what we hold, no re-read.
                self._announce((event, received_at) for _, event in rows)
                self._seen_seq = rows[-1][0]
                return
        await self.pump()

    async def pump(self) -> None:
        """Announce every event stored since the last pump, whoever stored it."""
        async with self._lock:
            while True:
                rows = await self._store.after_seq(self._seen_seq, PUMP_BATCH)
                self._announce((load_verified(row.raw), row.received_at) for row in rows)
                if rows:
                    self._seen_seq = rows[-1].seq
                if len(rows) < PUMP_BATCH:
                    return

    async def catch_up(self) -> None:
        """Pump if another connection committed since the last look.

        PRAGMA data_version changes only when another connection commits, so this
        costs one tiny query while nothing happens. The first call always pumps:
        others may have committed between the open and the first look.
        """
        version = await self._store.data_version()
        if version != self._data_version:
            self._data_version = version
            await self.pump()

    @contextlib.asynccontextmanager
    async def renumbering(self) -> AsyncIterator[None]:
        """Hold announcements while events are deleted: deleted rows free their
        sequence numbers for reuse, so counting starts anew afterwards."""
        await self.pump()  # announce what is stored before the numbers change
        async with self._lock:
            yield
            self._seen_seq = await self._store.max_seq()

    def _announce(self, events: Iterable[tuple[Event, int]]) -> None:
        arrivals = self._arrivals
        for event, received_at in events:
            self._on_event(event)
            arrivals[event.id] = received_at
            if len(arrivals) > RECENT_ARRIVALS:
                del arrivals[next(iter(arrivals))]
            for subscription in self._subscribers:
                subscription.offer(event)


def _contiguous(rows: Sequence[tuple[int, Event]]) -> bool:
    return rows[-1][0] - rows[0][0] == len(rows) - 1
