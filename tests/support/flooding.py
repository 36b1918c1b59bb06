"""A flooding peer against a real node, with an honest peer posting meanwhile (test and bench).

Three in-process nodes on loopback: Vera (the target), Hal (honest, posts a note every
`honest_every` s) and Rogue, whose link to Vera carries pre-signed notes of its own at
`rate` events/s, written straight onto the link as a modified node would. Vera's
subscription timestamps every arrival; her log tells why the rogue link was closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from peernode.node import Node
from protocol import kinds, wire
from protocol.event import Event, create_event
from protocol.handshake import DEFAULT_MAX_FRAME_BYTES
from protocol.identity import fingerprint
from tests.peernode.test_network import HOST, network, running
from tests.support.waiting import eventually

FRAMES_PER_SECOND = 20
HONEST_NOTES = 8  # Hal posts at least this many before the run ends


@dataclass
class FloodResult:
    offered: int = 0  # flood events written to the link
    stored: int = 0  # of them, stored by Vera
    flood_seconds: float = 0.0  # from the first flood frame to the link's close (or the end)
    closed_reason: str = ""  # why Vera closed the rogue link ("" if she did not)
    refused_again: bool = False  # the rogue dialled again and Vera refused it
    relinked: bool = False  # the rogue had a link to Vera again afterwards
    honest_sent: int = 0
    honest_delays: list[float] = field(default_factory=list)  # post → stored at Vera, s
    honest_missing: int = 0


def _linked(node: Node, other: Node) -> bool:
    """Both ends hold the link and their engines accepted it (gossip flows on it)."""
    for a, b in ((node, other), (other, node)):
        view = network(a).engine.peer_view(b.public_key)
        if view is None or not view.linked or b.public_key not in network(a)._links:
            return False
    return True


def flood_events(node: Node, count: int) -> list[Event]:
    base = int(time.time() * 1000)
    return [
        create_event(
            node.key,
            kind=kinds.NOTE,
            circle="lobby",
            body={"text": f"flood {i}"},
            created_at=base + i,
        )
        for i in range(count)
    ]


class _CloseReasons(logging.Handler):
    """Collects 'closing <link>: <reason>' lines of Vera's network about one key."""

    def __init__(self, fingerprint: str) -> None:
        super().__init__(logging.INFO)
        self.fingerprint = fingerprint
        self.reasons: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("closing ") and self.fingerprint in message:
            self.reasons.append(message.split(": ", 1)[1])


async def run_flood(
    root: Path, *, rate: int = 1000, seconds: float = 6.0, honest_every: float = 0.25
) -> FloodResult:
    """Flood Vera for up to `seconds` at `rate` events/s; returns what happened."""
    result = FloodResult()
    async with running(root / "vera", "Vera") as vera:
        port = network(vera).port
        assert port is not None
        async with (
            running(root / "hal", "Hal", peers=[(HOST, port)]) as hal,
            running(root / "rogue", "Rogue", peers=[(HOST, port)]) as rogue,
        ):
            await eventually(lambda: _linked(vera, hal) and _linked(vera, rogue), "links", 30)
            flood = flood_events(rogue, int(rate * seconds))
            ids = {e.id for e in flood}
            reasons = _CloseReasons(fingerprint(rogue.public_key))
            net_log = logging.getLogger("peernode.net.network")
            old_level = net_log.level
            net_log.setLevel(logging.INFO)
            net_log.addHandler(reasons)
            arrivals: dict[bytes, float] = {}
            subscription = vera.subscribe()
            loop = asyncio.get_running_loop()

            async def collect() -> None:
                while True:
                    event = await subscription.queue.get()
                    arrivals.setdefault(event.id, loop.time())

            async def honest() -> None:
                while True:
                    posted = await hal.post(f"honest {result.honest_sent}")
                    sent_at[posted.id] = loop.time()
                    result.honest_sent += 1
                    await asyncio.sleep(honest_every)

            sent_at: dict[bytes, float] = {}
            collector = asyncio.create_task(collect())
            poster = asyncio.create_task(honest())
            try:
                result.offered, result.flood_seconds = await _flood(rogue, vera, flood, rate)
                # The rogue dials again (its --peer) and is refused, while Hal goes on posting.
                with contextlib.suppress(AssertionError):  # if not: refused_again says so
                    await eventually(
                        lambda: (
                            "misbehaved recently" in reasons.reasons
                            and result.honest_sent >= HONEST_NOTES
                        ),
                        "the rogue's new link to be refused",
                        10,
                    )
                view = network(vera).engine.peer_view(rogue.public_key)
                result.relinked = view is not None and view.linked
            finally:
                poster.cancel()
                await asyncio.gather(poster, return_exceptions=True)
                await eventually(lambda: all(i in arrivals for i in sent_at), "honest notes", 10.0)
                collector.cancel()
                await asyncio.gather(collector, return_exceptions=True)
                vera.unsubscribe(subscription)
                net_log.removeHandler(reasons)
                net_log.setLevel(old_level)
            result.closed_reason = next(iter(reasons.reasons), "")
            result.refused_again = "misbehaved recently" in reasons.reasons
            result.stored = len(ids & set(arrivals))
            result.honest_delays = [arrivals[i] - t for i, t in sent_at.items() if i in arrivals]
            result.honest_missing = sum(1 for i in sent_at if i not in arrivals)
    return result


async def _flood(rogue: Node, vera: Node, flood: list[Event], rate: int) -> tuple[int, float]:
    """Write the flood onto the rogue's link to Vera in FRAMES_PER_SECOND frames a second."""
    loop = asyncio.get_running_loop()
    link = network(rogue)._links[vera.public_key]
    per_frame = max(1, rate // FRAMES_PER_SECOND)
    start = loop.time()
    offered = 0
    for n, first in enumerate(range(0, len(flood), per_frame)):
        if link.closed:
            break
        raws = [e.raw for e in flood[first : first + per_frame]]
        for frame in wire.events_frames(raws, DEFAULT_MAX_FRAME_BYTES):
            link.send_nowait(frame)
        offered += len(raws)
        await asyncio.sleep(max(0.0, start + (n + 1) / FRAMES_PER_SECOND - loop.time()))
    return offered, loop.time() - start
