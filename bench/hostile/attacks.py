"""The attacks: each a coroutine that misbehaves within the protocol until its deadline.

Every link completes the real handshake with a fresh key unless said otherwise. What an
attack knows of the victim (its items, the ids of its large events, its circle) is what
any peer learns over the wire; the runner hands it over in `world.json` to save time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast

from bench.hostile.conn import Conn, Listener, Traffic, dial, serve
from protocol import wire
from protocol.codec import pack
from protocol.event import FORMAT_VERSION, SIGNING_CONTEXT, create_event, decode_event, event_id
from protocol.handshake import DEFAULT_MAX_FRAME_BYTES
from protocol.identity import SigningKey
from protocol.limits import MAX_TIMESTAMP_MS
from protocol.reconcile.codec import (
    INFINITY,
    MIN_BOUND,
    Bound,
    Mode,
    Writer,
    encode_varint,
    id_list,
)

LISTEN_PORT = 7600  # the backlog attack's listeners, one per source address
CLAIMED_PER_ROUND = 1_900  # fake ids per reconciliation reply: as many as fit in one
SEARCH_RANGE = 8_192  # items per range of a search message (the node's SEARCH_MAX)


@dataclass(slots=True)
class Ctx:
    """What an attack runs against and with."""

    host: str
    port: int
    sources: list[str]
    deadline: float
    facts: dict[str, object]
    items: list[tuple[int, bytes]]
    traffic: Traffic = field(default_factory=Traffic)
    notes: dict[str, int | float | str] = field(default_factory=dict)
    ready: list[object] = field(default_factory=list)  # prepared before the clock starts

    @property
    def left(self) -> float:
        return self.deadline - time.monotonic()

    @property
    def large_ids(self) -> list[bytes]:
        return [bytes.fromhex(h) for h in cast(list[str], self.facts["large_ids"])]

    def count(self, what: str, n: int = 1) -> None:
        self.notes[what] = int(self.notes.get(what, 0)) + n

    async def link(
        self, source: str, *, key: SigningKey | None = None, receive_buffer: int | None = None
    ) -> Conn | None:
        return await dial(
            self.traffic,
            self.host,
            self.port,
            source=source,
            key=key,
            receive_buffer=receive_buffer,
        )


Attack = Callable[[Ctx], Awaitable[None]]


async def until_deadline(ctx: Ctx, *coros: Awaitable[object]) -> None:
    """Run `coros` together until the deadline (or until all end)."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        await asyncio.wait(tasks, timeout=max(0.0, ctx.left))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def workers(
    ctx: Ctx,
    per_source: int,
    work: Callable[[str], Awaitable[None]],
    sources: list[str] | None = None,
) -> None:
    """`work(source)` in a loop, `per_source` at once from every source address (or from
    `sources`)."""

    async def forever(source: str) -> None:
        while ctx.left > 0:
            with contextlib.suppress(ConnectionError, OSError):
                await work(source)
            await asyncio.sleep(0.05)

    chosen = ctx.sources if sources is None else sources
    await until_deadline(ctx, *(forever(s) for s in chosen for _ in range(per_source)))


def notes_by(key: SigningKey, count: int) -> list[bytes]:
    """`count` valid notes by `key`, signed over bytes packed here (create_event checks
    every field first, which costs the attacker more than the signature)."""
    now, author, sign = int(time.time() * 1000), key.public_key, key.sign
    raws = []
    for n in range(count):
        text = f"hello from a new friend {n}"
        content = pack(
            [FORMAT_VERSION, author, now + n, "peernode/note@1", "lobby", {}, {"text": text}]
        )
        raws.append(sign(SIGNING_CONTEXT + content) + content)
    return raws


def batches(ctx: Ctx, make: Callable[[], object], count: int) -> None:
    """Sign `count` batches before the clock starts (the attacker's CPU is the victim's)."""
    ctx.ready.extend(make() for _ in range(count))


def batch(ctx: Ctx, make: Callable[[], object]) -> object:
    return ctx.ready.pop() if ctx.ready else make()


async def push(conn: Conn, raws: list[bytes]) -> None:
    for frame in wire.events_frames(raws, DEFAULT_MAX_FRAME_BYTES):
        await conn.send_plain(frame)


async def push_and_leave(conn: Conn, raws: list[bytes], linger: float) -> None:
    """Push `raws`, read what the victim says for `linger` seconds, then close."""
    await push(conn, raws)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(conn.run(), linger)
    await conn.close()


async def repeat_on_a_link(
    ctx: Ctx, source: str, message: Callable[[], wire.Message], every: float
) -> None:
    """Link from `source`, then send `message()` every `every` seconds while the link is
    open and the attack lasts, reading (and dropping) what the victim sends meanwhile."""
    conn = await ctx.link(source)
    if conn is None:
        return
    reader = asyncio.ensure_future(conn.run())
    try:
        while conn.open and ctx.left > 0:
            await conn.send(message())
            await asyncio.sleep(every)
    finally:
        reader.cancel()


# -- baseline -----------------------------------------------------------------------------


async def baseline(ctx: Ctx) -> None:
    """No attack (the runner restarts the honest peer mid-run)."""
    await asyncio.sleep(max(0.0, ctx.left))


# -- reconciliation that claims a huge backlog --------------------------------------------


def claim(round_: int) -> bytes:
    """A responder's reply: 1,900 ids the initiator lacks, and a remainder that never
    matches, so the initiator asks again (the cut moves each round so it is never an echo
    of the last one)."""
    writer = Writer(limit=wire.MAX_RECONCILE_PAYLOAD, advertise=wire.MAX_RECONCILE_PAYLOAD)
    cut: Bound = (MAX_TIMESTAMP_MS - 1 - round_ % 2, b"")
    ids = [os.urandom(32) for _ in range(CLAIMED_PER_ROUND)]
    assert writer.put(MIN_BOUND, cut, Mode.MISSING, id_list(ids))
    writer.put_rest(cut, 1, os.urandom(16))
    return writer.data()


async def answer_as_holder(ctx: Ctx, conn: Conn) -> None:
    """The victim dialled us: accept it, and answer its sessions with an endless backlog."""
    rounds = itertools.count()

    async def handle(conn: Conn, msg: wire.Message) -> None:
        match msg:
            case wire.Join() | wire.Neighbor():
                await conn.send(wire.NeighborReply(True))
            case wire.Reconcile(session, _):
                ctx.count("claimed ids", CLAIMED_PER_ROUND)
                await conn.send(wire.Reconcile(session, claim(next(rounds))))
            case wire.Want(ids):
                ctx.count("ids wanted of the claimed", len(ids))

    ctx.count("links the victim dialled")
    await until_deadline(ctx, conn.run(handle))


async def backlog(ctx: Ctx) -> None:
    """Announce one listener per source address; the victim dials them (it wants more
    links) and so starts sessions with a responder that claims ids without end."""
    listeners = [Listener(SigningKey.generate(), source, LISTEN_PORT) for source in ctx.sources]
    runners = [
        await serve(ctx.traffic, lst, lambda c: answer_as_holder(ctx, c)) for lst in listeners
    ]
    try:

        async def announce() -> None:
            while ctx.left > 0:
                conn = await ctx.link(ctx.sources[0])
                if conn is not None:
                    await conn.send(wire.ShuffleReply([lst.address for lst in listeners]))
                    await conn.run()
                await asyncio.sleep(1)

        await until_deadline(ctx, announce())
    finally:
        for runner in runners:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(runner.cleanup(), 2)


# -- Sybils -------------------------------------------------------------------------------


def churn_batch() -> tuple[SigningKey, list[bytes]]:
    key = SigningKey.generate()
    return key, notes_by(key, 1_000)


def prepare_churn(ctx: Ctx) -> None:
    batches(ctx, churn_batch, 24)


async def sybil_churn(ctx: Ctx) -> None:
    """A fresh key per link, each pushing 1,000 of its own notes, then gone."""

    async def one(source: str) -> None:
        key, raws = cast(tuple[SigningKey, list[bytes]], batch(ctx, churn_batch))
        conn = await ctx.link(source, key=key)
        if conn is None:
            return
        ctx.count("events pushed", len(raws))
        await push_and_leave(conn, raws, 0.5)

    await workers(ctx, 1, one)


def pull_batch() -> dict[bytes, bytes]:
    raws = [r for _ in range(10) for r in notes_by(SigningKey.generate(), 100)]
    return {event_id(raw): raw for raw in raws}


def prepare_pull(ctx: Ctx) -> None:
    batches(ctx, pull_batch, 24)


async def sybil_pull(ctx: Ctx) -> None:
    """Many keys, each offering 1,000 valid notes of 10 fresh authors and serving them."""

    async def one(source: str) -> None:
        by_id = cast(dict[bytes, bytes], batch(ctx, pull_batch))
        conn = await ctx.link(source)
        if conn is None:
            return
        await conn.send(wire.Offer(list(by_id)[: wire.MAX_IDS]))
        ctx.count("events offered", len(by_id))

        async def serve_wants(conn: Conn, msg: wire.Message) -> None:
            if isinstance(msg, wire.Want):
                asked = [by_id[i] for i in msg.ids if i in by_id]
                ctx.count("events served", len(asked))
                await push(conn, asked)

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(conn.run(serve_wants), 5)
        await conn.close()

    await workers(ctx, 2, one)


# -- wanting large events again and again -------------------------------------------------


async def wants(ctx: Ctx, links_per_source: int, sources: int) -> None:
    """Want the victim's 1,000 large events, and again as soon as most have come."""
    large = ctx.large_ids[: wire.MAX_IDS]

    async def one(source: str) -> None:
        conn = await ctx.link(source)
        if conn is None:
            return
        got, last = 0, time.monotonic()
        most = asyncio.Event()  # 90 % of what was wanted has come

        async def count(conn: Conn, msg: wire.Message) -> None:
            nonlocal got, last
            if isinstance(msg, wire.Events):
                got, last = got + len(msg.raws), time.monotonic()
                ctx.count("events received", len(msg.raws))
                if got >= 0.9 * len(large):
                    most.set()

        reader = asyncio.ensure_future(conn.run(count))
        try:
            while conn.open and ctx.left > 0:
                got, last = 0, time.monotonic()
                most.clear()
                ctx.count("ids wanted", len(large))
                await conn.send(wire.Want(large))
                # Again once most came, or once nothing came for 2 s (the node stopped).
                while conn.open and not most.is_set() and time.monotonic() - last < 2:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(most.wait(), 0.5)
        finally:
            reader.cancel()

    await workers(ctx, links_per_source, one, ctx.sources[:sources])


async def wants_shaped(ctx: Ctx) -> None:
    """One link wanting the large events again and again (the runner shapes the victim's
    uplink to 50 Mbit/s)."""
    await wants(ctx, 1, 1)


async def repeat_wants(ctx: Ctx) -> None:
    """Two links from one address asking again and again for the same 1,000 large events."""
    await wants(ctx, 2, 1)


# -- reconciliation "search" messages -----------------------------------------------------


def search_message(items: list[tuple[int, bytes]]) -> bytes:
    """An initiator's message whose every range claims one item fewer than the victim
    holds, so the victim hashes each range looking for the single extra item."""
    writer = Writer(limit=wire.MAX_RECONCILE_PAYLOAD, advertise=wire.MAX_RECONCILE_PAYLOAD)
    lower: Bound = MIN_BOUND
    for start in range(0, len(items), SEARCH_RANGE):
        end = min(len(items), start + SEARCH_RANGE)
        upper: Bound = INFINITY if end == len(items) else items[end]
        payload = encode_varint(end - start - 1) + os.urandom(16)
        writer.put(lower, upper, Mode.FINGERPRINT, payload)
        lower = upper
    return writer.data()


async def search(ctx: Ctx) -> None:
    """8 links from 4 addresses, each sending a new session's search message 40 times a
    second (under the node's 50 a second) and reading the replies."""
    sessions = itertools.count()

    def message() -> wire.Reconcile:
        session = 2 * (next(sessions) % (wire.MAX_SESSION // 2)) + 1  # a dialer's
        ctx.count("search messages")
        return wire.Reconcile(session, search_message(ctx.items))

    await workers(ctx, 2, lambda source: repeat_on_a_link(ctx, source, message, 1 / 40))


# -- links that never read ----------------------------------------------------------------


async def no_read(ctx: Ctx) -> None:
    """8 links from 4 addresses with a tiny receive buffer: each wants the large events
    twice, then never reads again."""

    async def one(source: str) -> None:
        conn = await ctx.link(source, receive_buffer=4096)
        if conn is None:
            return
        for _ in range(2):
            await conn.send(wire.Want(ctx.large_ids[: wire.MAX_IDS]))
        ctx.count("links that stopped reading")
        await asyncio.sleep(max(0.0, ctx.left))

    await workers(ctx, 2, one)


# -- eclipse -------------------------------------------------------------------------------


async def eclipse(ctx: Ctx) -> None:
    """Hold every slot: 2 links per address from 4 addresses, well behaved, and link
    again at once when one is closed (the runner restarts the honest peer meanwhile)."""

    async def one(source: str) -> None:
        conn = await ctx.link(source)
        if conn is None:
            ctx.count("links refused")
            await asyncio.sleep(0.2)
            return
        await conn.run()
        ctx.count("links closed by the victim")

    await workers(ctx, 2, one)


# -- IHave for ids never delivered --------------------------------------------------------


async def ihave_liar(ctx: Ctx) -> None:
    """Announce 1,024 ids that do not exist, 20 times a second, and never deliver them."""

    def message() -> wire.IHave:
        ctx.count("ids announced", wire.MAX_IDS)
        return wire.IHave([os.urandom(32) for _ in range(wire.MAX_IDS)])

    await workers(ctx, 1, lambda source: repeat_on_a_link(ctx, source, message, 0.05))


# -- valid but odd events -----------------------------------------------------------------


def odd_events(key: SigningKey, circle_raw: bytes) -> list[bytes]:
    """Events that pass every check yet are odd: of the largest size, nested as deep as
    allowed, replying to nothing, and a circle version dated 2^53-1 (and one dated 0)."""
    now = int(time.time() * 1000)
    circle = decode_event(circle_raw)
    deep: object = "bottom"
    for _ in range(14):
        deep = {"d": deep}
    events = [
        create_event(
            key, kind="study/blob@1", circle="lobby", body={"text": "x" * 61_000}, created_at=now
        ),
        create_event(key, kind="study/deep@1", circle="lobby", body={"d": deep}, created_at=now),
        create_event(
            key,
            kind="peernode/note@1",
            circle="lobby",
            body={"text": "replying to nothing"},
            refs={"reply_to": os.urandom(32)},
            created_at=now,
        ),
    ]
    for when in (MAX_TIMESTAMP_MS, 0):
        body = dict(circle.body) | {"title": f"taken over ({when})"}
        events.append(
            create_event(
                key,
                kind=circle.kind,
                circle=circle.circle,
                body=body,
                refs={"updates": circle.id},
                created_at=when,
            )
        )
    return [event.raw for event in events]


async def odd(ctx: Ctx) -> None:
    """A fresh key every second pushing a batch of odd events (plus 50 ordinary notes)."""
    circle_raw = bytes.fromhex(str(ctx.facts["circle_raw"]))

    async def one(source: str) -> None:
        key = SigningKey.generate()
        conn = await ctx.link(source, key=key)
        if conn is None:
            return
        raws = odd_events(key, circle_raw) + notes_by(key, 50)
        ctx.count("odd events pushed", len(raws))
        await push_and_leave(conn, raws, 1)

    await workers(ctx, 1, one)


ATTACKS: dict[str, tuple[Attack, str]] = {
    "baseline": (baseline, "no attack: the honest peer restarts mid-run"),
    "backlog": (backlog, "reconciliation that claims a huge backlog"),
    "sybil-churn": (sybil_churn, "Sybil churn: a fresh key per link, 1,000 events each"),
    "sybil-pull": (sybil_pull, "Sybil pull: many keys offer valid events"),
    "wants-shaped": (wants_shaped, "wanting large events again, victim uplink 50 Mbit/s"),
    "search": (search, "reconciliation search messages from 4 addresses"),
    "no-read": (no_read, "8 links from 4 addresses that never read"),
    "eclipse": (eclipse, "eclipse: every slot from 4 addresses; the honest peer restarts"),
    "ihave-liar": (ihave_liar, "IHave for ids never delivered"),
    "odd-events": (odd, "valid but odd events (max size, deep, dangling, circle 2^53-1)"),
    "repeat-wants": (repeat_wants, "asking again and again for the same 1,000 large events"),
}
PREPARE: dict[str, Callable[[Ctx], None]] = {
    "sybil-churn": prepare_churn,
    "sybil-pull": prepare_pull,
}
"""Work done before the attack's clock starts."""
SHAPED = {"wants-shaped"}
RESTARTS_HONEST = {"baseline", "eclipse"}
