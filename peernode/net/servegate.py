"""Turns at answering peers' requests, given out by the serving budget (peernode.net.serving).

Rules of this file:
- One turn at a time: a turn is one store read (or one slice of events held in memory),
  and the store's one thread is what the turns share.
- A turn is always charged and handed back, even when its task is cancelled.
- When nobody may go yet (budgets spent), a timer wakes the gate when one may.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from peernode.net.serving import ServingConfig, ServingScheduler


class Turn:
    """The turn a peer holds: tell it what the turn brought (`charge`) before it ends."""

    __slots__ = ("amount",)

    def __init__(self) -> None:
        self.amount = 0

    def charge(self, amount: int) -> None:
        self.amount += amount


class ServeGate:
    """Gives out turns in the scheduler's order, one at a time."""

    def __init__(self, config: ServingConfig, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.scheduler = ServingScheduler(config, clock())
        self._waiting: dict[bytes, asyncio.Future[None]] = {}
        self._busy = False
        self._timer: asyncio.TimerHandle | None = None

    @contextlib.asynccontextmanager
    async def turn(self, peer: bytes) -> AsyncIterator[Turn]:
        """Wait for `peer`'s turn, hold it for the body, then charge it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._waiting[peer] = future
        self.scheduler.want(peer, self._clock())
        self._dispatch()
        try:
            await future
        except BaseException:
            if self._waiting.get(peer) is future:
                del self._waiting[peer]
                self.scheduler.leave(peer)
            elif future.done() and not future.cancelled():
                self._end(peer, 0)  # granted as it was cancelled: hand the turn back
            self._dispatch()
            raise
        turn = Turn()
        try:
            yield turn
        finally:
            self._end(peer, turn.amount)

    def _end(self, peer: bytes, amount: int) -> None:
        self._busy = False
        self.scheduler.spent(peer, amount, self._clock())
        self._dispatch()

    def _dispatch(self) -> None:
        if self._busy:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        peer, when = self.scheduler.next_turn(self._clock())
        if peer is not None:
            future = self._waiting.pop(peer)
            self._busy = True
            future.set_result(None)
        elif when != float("inf"):
            loop = asyncio.get_running_loop()
            self._timer = loop.call_at(max(when, loop.time()), self._wake)

    def _wake(self) -> None:
        self._timer = None
        self._dispatch()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
