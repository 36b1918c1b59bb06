"""Events to and from peers: received batches stored in order, wanted ones sent from the store.

Bounded per peer: one task works off each queue, so a fast or hostile peer makes queues,
never piles of tasks.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from peernode.net.link import Link
from peernode.net.servegate import ServeGate
from peernode.ports import GossipNode, IngestResult
from protocol import wire
from protocol.event import Event, event_id

log = logging.getLogger(__name__)

STORED_CHUNK: Final = 500
"""Most events read from the store at a time to answer a peer's Want."""
FIRST_CHUNK: Final = 32
"""Events read at first for a peer, before their sizes are known."""
CHUNK_BYTES: Final = 1 << 20
"""About how many bytes one read for a peer brings: the store's one thread serves reads and
writes in turn, so one peer's large events never hold another's answer (or the storing of
what arrives) for longer than one such read."""
MAX_STORED_QUEUED: Final = 16_384
"""Events a peer may have waiting to be sent; more are dropped (it asks again)."""
MAX_HELD_QUEUED: Final = 64 << 20
"""Bytes of events held in memory a peer may have waiting to be sent: one Want of the
largest events. They are the engine's cache of recent events, shared, not copies."""
VERIFY_MERGE: Final = 512
"""Most received events handed to the node in one ingest (several Verify actions merged)."""
VERIFY_RUNNING: Final = 2
"""Ingests in progress per peer: one is verified while the one before is stored."""

Spawn = Callable[[Coroutine[Any, Any, Any], str], None]
OnStored = Callable[[bytes, list[Event], int, list[bytes]], None]
"""(peer, the new events of one received batch, how many of it were rejected, the ids of it
the node declined to store)."""


@dataclass(slots=True, eq=False)
class _PeerWork:
    """Per peer: Verify batches waiting for an ingest, and ids waiting to be sent from the store.

    Each is worked off by at most one task per peer, so a fast or hostile peer makes
    queues (bounded by the engine's windows and MAX_STORED_QUEUED), never piles of tasks.
    """

    verify: deque[list[bytes]] = field(default_factory=deque)
    verifying: bool = False
    stored: deque[tuple[list[bytes], list[bytes], bool]] = field(default_factory=deque)
    stored_ids: int = 0  # events waiting, held or to load
    held_bytes: int = 0  # bytes of the held ones
    sending: bool = False
    chunk: int = FIRST_CHUNK  # ids to read next, about CHUNK_BYTES of events


class Transfers:
    """The event traffic of one network.

    links: the network's admitted links by key (read only here).
    spawn: starts a task the network tracks and cancels when it stops.
    on_stored: told each received batch's outcome, in the order the batches came.
    on_settled: runs after a group of batches was reported (the index can settle).
    gate: turns at answering, by the serving budget: every answer's bytes go through it.
    """

    def __init__(
        self,
        node: GossipNode,
        *,
        links: Mapping[bytes, Link],
        max_frame_bytes: int,
        spawn: Spawn,
        on_stored: OnStored,
        on_settled: Callable[[], None],
        gate: ServeGate,
    ) -> None:
        self._node = node
        self._gate = gate
        self._links = links
        self._max_frame_bytes = max_frame_bytes
        self._spawn = spawn
        self._on_stored = on_stored
        self._on_settled = on_settled
        self._work: dict[bytes, _PeerWork] = {}
        # Ids of received events between ingest and their report: the node announces
        # them as new meanwhile, and they must not look posted here.
        self._arriving: set[bytes] = set()
        self._exchanged: Counter[bytes] = Counter()

    def arriving(self, event_id_: bytes) -> bool:
        """Whether this event came from a peer and is being stored now."""
        return event_id_ in self._arriving

    def take_exchanged(self) -> dict[bytes, int]:
        """Events received from and sent to each peer since the last call."""
        counts, self._exchanged = dict(self._exchanged), Counter()
        return counts

    # -- received events: verify and store, in order, a few batches at a time --------------

    def verify(self, peer: bytes, raws: list[bytes]) -> None:
        """Queue a Verify batch of the peer's."""
        work = self._peer_work(peer)
        work.verify.append(raws)
        self._arriving.update(event_id(raw) for raw in raws)
        if not work.verifying:
            work.verifying = True
            self._spawn(self._verify_loop(peer, work), "verify events")

    async def _verify_loop(self, peer: bytes, work: _PeerWork) -> None:
        """Ingest the peer's Verify batches, merged up to VERIFY_MERGE events per ingest and
        VERIFY_RUNNING ingests at once, and report each batch in order."""
        running: deque[tuple[list[list[bytes]], asyncio.Task[IngestResult]]] = deque()
        try:
            while work.verify or running:
                while work.verify and len(running) < VERIFY_RUNNING:
                    group = [work.verify.popleft()]
                    size = len(group[0])
                    while work.verify and size + len(work.verify[0]) <= VERIFY_MERGE:
                        size += len(work.verify[0])
                        group.append(work.verify.popleft())
                    merged = group[0] if len(group) == 1 else [r for b in group for r in b]
                    running.append((group, asyncio.create_task(self._node.ingest(merged, peer))))
                group, task = running.popleft()
                try:
                    result = await task
                except Exception as exc:  # report the batches anyway: their ids are forgotten
                    log.error("ingest of %d events failed: %r", sum(map(len, group)), exc)
                    result = None
                await self._report(peer, group, result)
        finally:
            work.verifying = False
            for _, task in running:
                task.cancel()
            await asyncio.gather(*(task for _, task in running), return_exceptions=True)
            if not work.verify:
                self._forget_work(peer, work)

    async def _report(
        self, peer: bytes, group: list[list[bytes]], result: IngestResult | None
    ) -> None:
        """on_stored() once per Verify batch of `group`, in order."""
        new: list[list[Event]] = [[] for _ in group]
        bad = [0] * len(group)
        declined: list[list[bytes]] = [[] for _ in group]
        if result is not None and len(group) == 1:
            new[0], bad[0] = result.new, len(result.rejected)
            declined[0] = [event.id for event in result.declined]
            declined[0] += [event_id(raw) for raw in result.declined_unverified]
        elif result is not None:
            where = {raw: i for i, batch in enumerate(group) for raw in batch}
            for event in result.new:
                new[where[event.raw]].append(event)
            for rejected in result.rejected:
                bad[where[rejected.raw]] += 1
            for event in result.declined:
                declined[where[event.raw]].append(event.id)
            for raw in result.declined_unverified:
                declined[where[raw]].append(event_id(raw))
        if result is not None and result.rejected:
            log.info(
                "%d bad events from %s: %s",
                len(result.rejected),
                peer.hex()[:16],
                result.rejected[0].reason,
            )
        for i, batch in enumerate(group):
            if i:
                await asyncio.sleep(0)  # a big group is reported over several loop steps
            # Before on_stored: what it sets off may bring the same ids again.
            self._arriving.difference_update(event_id(raw) for raw in batch)
            self._exchanged[peer] += len(new[i])
            self._on_stored(peer, new[i], bad[i], declined[i])
        self._on_settled()

    # -- answering Wants from the store ---------------------------------------------------

    def send_stored(
        self,
        peer: bytes,
        ids: list[bytes],
        raws: list[bytes] | None = None,
        *,
        answer: bool = True,
    ) -> None:
        """Queue an answer: events held (`raws`) and ids to load from the store (dropped
        when too many wait). answer False: a push of ours (held events only), not paced
        by the serving budget."""
        raws = raws or []
        work = self._peer_work(peer)
        held = sum(map(len, raws))
        count = len(ids) + len(raws)
        if work.stored_ids + count > MAX_STORED_QUEUED or work.held_bytes + held > MAX_HELD_QUEUED:
            log.info(
                "dropping a request of %d events from %s: too many queued", count, peer.hex()[:16]
            )
            return
        work.stored.append((ids, raws, answer))
        work.stored_ids += count
        work.held_bytes += held
        if not work.sending:
            work.sending = True
            self._spawn(self._send_stored_loop(peer, work), "send stored events")

    async def _send_stored_loop(self, peer: bytes, work: _PeerWork) -> None:
        try:
            while work.stored:
                ids, raws, answer = work.stored.popleft()
                work.stored_ids -= len(ids) + len(raws)
                work.held_bytes -= sum(map(len, raws))
                if not answer:
                    sent = await self._send_events(peer, raws)
                else:
                    sent = await self._send_answer(peer, work, ids, raws)
                if not sent:
                    work.stored.clear()
                    work.stored_ids = work.held_bytes = 0
        finally:
            work.sending = False
            self._forget_work(peer, work)

    async def _send_answer(
        self, peer: bytes, work: _PeerWork, ids: list[bytes], raws: list[bytes]
    ) -> bool:
        """Send the held events, then the others read from the store about CHUNK_BYTES at
        a time, each chunk in a turn of the serving budget and waiting for room on the
        link; False if it closed."""
        for start, stop in _slices(raws, CHUNK_BYTES):
            async with self._gate.turn(peer) as turn:
                turn.charge(sum(map(len, raws[start:stop])))
            if not await self._send_events(peer, raws[start:stop]):
                return False
        start = 0
        while start < len(ids):
            chunk = ids[start : start + work.chunk]
            async with self._gate.turn(peer) as turn:
                loaded = await self._node.shared_events(chunk)
                turn.charge(sum(map(len, loaded)))
            start += len(chunk)
            # By the ids read: the last chunk of an answer is often short, and sizing the
            # next by the ids asked for made it 500 large events (16 MB in one read).
            work.chunk = next_chunk(len(chunk), turn.amount)
            if not await self._send_events(peer, loaded):
                return False
        return True

    async def _send_events(self, peer: bytes, raws: list[bytes]) -> bool:
        link = self._links.get(peer)
        if link is None:
            return False
        for frame in wire.events_frames(raws, self._max_frame_bytes):
            if not await link.send(frame):
                return False
        self._exchanged[peer] += len(raws)
        return True

    # -- per-peer bookkeeping -------------------------------------------------------------

    def _peer_work(self, peer: bytes) -> _PeerWork:
        work = self._work.get(peer)
        if work is None:
            work = self._work[peer] = _PeerWork()
        return work

    def _forget_work(self, peer: bytes, work: _PeerWork) -> None:
        idle = not (work.verifying or work.verify or work.sending or work.stored)
        if idle and self._work.get(peer) is work:
            del self._work[peer]


def _slices(raws: list[bytes], size: int) -> list[tuple[int, int]]:
    """(start, stop) of consecutive runs of `raws` of about `size` bytes (at least one each)."""
    slices: list[tuple[int, int]] = []
    start = total = 0
    for n, raw in enumerate(raws):
        if total and total + len(raw) > size:
            slices.append((start, n))
            start, total = n, 0
        total += len(raw)
    if start < len(raws):
        slices.append((start, len(raws)))
    return slices


def next_chunk(count: int, loaded_bytes: int) -> int:
    """How many ids to read next, after `count` ids brought `loaded_bytes`: about
    CHUNK_BYTES of events, between FIRST_CHUNK and STORED_CHUNK."""
    if loaded_bytes <= 0:
        return STORED_CHUNK  # none of them held (any more): reading ids is cheap
    return max(FIRST_CHUNK, min(STORED_CHUNK, count * CHUNK_BYTES // loaded_bytes))
