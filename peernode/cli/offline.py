"""Running one command's work on the node opened offline, with no networking."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from peernode.home import Home
from peernode.node import Node, NodeConfig

T = TypeVar("T")


def run_with_node(home: Home, work: Callable[[Node], Awaitable[T]]) -> T:
    """Open the node offline (no networking), run `work`, close it.

    No page check at open (it would slow every command on a big database):
    damage shows up, with the way out, when a command reads a damaged page."""

    async def runner() -> T:
        async with Node(home, NodeConfig(watch=False, check_storage=False)) as node:
            return await work(node)

    return asyncio.run(runner())
