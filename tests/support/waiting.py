"""Waiting until something holds: the one polling helper of the tests, async and sync."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

T = TypeVar("T")

WITHIN: Final = 10.0
"""Seconds to wait by default: generous for a loaded 2-core machine, where the things
waited for take well under a second."""


async def eventually(
    check: Callable[[], T | Awaitable[T]],
    what: str,
    within: float = WITHIN,
    *,
    every: float = 0.05,
    pause: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """Ask `check` every `every` seconds until its answer is true, and return that answer.

    `check` is a plain function or a coroutine function (such as a query of a node).
    After `within` seconds, fails with "timed out after N s waiting for WHAT". `pause`
    waits between two asks: a Textual pilot's pause lets the app run meanwhile.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        answer = check()
        if inspect.isawaitable(answer):
            answer = await answer
        if answer:
            return answer
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await pause(every)


def wait_for(check: Callable[[], T], what: str, within: float = WITHIN, *, every: float = 0.1) -> T:
    """`eventually` for code outside an event loop (other processes, threads): blocks.

    A check that takes long (one that runs a `peernode` command) is followed by a pause
    as long as it took: polling then keeps at most half a core busy, leaving the rest to
    the processes it waits for.
    """
    deadline = time.monotonic() + within
    while True:
        asked_at = time.monotonic()
        answer = check()
        if answer:
            return answer
        now = time.monotonic()
        if now > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        time.sleep(max(every, now - asked_at))
