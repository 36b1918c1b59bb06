"""Wild created_at claims (far future, far past, 0): stored as signed, shown at a bounded time.

Real SQLite files, events received through Node.ingest (the path of events from a
peer), the real `peernode feed` command and two nodes linked over loopback.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest

from peernode.clock import AHEAD_MARK_AFTER_MS, UNSET_CLOCK_BEFORE, now_ms, shown_at
from peernode.home import Home
from peernode.node import Node, NodeConfig
from peernode.storage import MIGRATIONS, Store, StoredEvent
from peernode.views import FeedEntry
from protocol import kinds
from protocol.event import Event, create_event, decode_event, load_verified
from protocol.identity import SigningKey
from protocol.limits import MAX_TIMESTAMP_MS
from tests.conftest import RunCli
from tests.peernode.test_network import HOST, linked_to, port_of, running
from tests.support.waiting import eventually

BEN = SigningKey.from_seed(b"\x02" * 32)
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
DAY = 24 * 60 * 60_000
YEAR_2200 = 7_258_118_400_000
YEAR_1990 = 631_152_000_000


def note(text: str, created_at: int, *, key: SigningKey = BEN, circle: str = "lobby") -> Event:
    return create_event(
        key, kind=kinds.NOTE, circle=circle, body={"text": text}, created_at=created_at
    )


def key_of(row: StoredEvent) -> tuple[int, int, bytes]:
    event = load_verified(row.raw)
    return (shown_at(event.created_at, row.received_at), event.created_at, event.id)


def texts_of(rows: list[StoredEvent]) -> list[str]:
    return [load_verified(row.raw).body["text"] for row in rows]


def entry_texts(entries: list[FeedEntry]) -> list[str]:
    return [entry.event.body["text"] for entry in entries]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "peernode.db")
    yield store
    store.close()


# -- the rule -----------------------------------------------------------------------------


def test_shown_at_bounds_the_claim_by_the_arrival() -> None:
    assert shown_at(T0 - DAY, T0) == T0 - DAY  # caught up a day late: the real past is kept
    assert shown_at(T0 + 1, T0) == T0  # any claim after the arrival is pulled back
    assert shown_at(YEAR_2200, T0) == T0
    assert shown_at(UNSET_CLOCK_BEFORE, T0) == UNSET_CLOCK_BEFORE  # 2000-01-01 is a date
    assert shown_at(UNSET_CLOCK_BEFORE - 1, T0) == T0  # before it: a clock never set
    assert shown_at(0, T0) == T0


# -- the store ----------------------------------------------------------------------------


def test_wild_claims_are_stored_as_signed_and_listed_at_their_arrival(store: Store) -> None:
    caught_up = note("written yesterday, caught up now", T0 - DAY)
    future = note("claims 2200", YEAR_2200)
    largest = note("claims the largest time", MAX_TIMESTAMP_MS)
    epoch = note("claims 1970", 0)
    nineties = note("claims 1990", YEAR_1990)
    fast = note("a clock a minute fast", T0 + 60_000)
    batch = [future, epoch, caught_up, largest, nineties, fast]
    assert store.insert_events(batch, received_at=T0) == batch  # none refused for its time
    later = note("written after they arrived", T0 + 1_000)
    store.insert_events([later], received_at=T0 + 2_000)

    # Shown at the arrival (T0); a tie keeps the authors' order, then the id.
    assert texts_of(store.feed()) == [
        "written yesterday, caught up now",
        "claims 1970",
        "claims 1990",
        "a clock a minute fast",
        "claims 2200",
        "claims the largest time",
        "written after they arrived",
    ]
    # The bytes as signed, and the claim still the reconciliation key.
    assert store.raw_by_ids([future.id]) == [future.raw]
    assert decode_event(future.raw).created_at == YEAR_2200
    assert (YEAR_2200, future.id) in set(store.time_index())
    assert (MAX_TIMESTAMP_MS, largest.id) in set(store.time_index())
    # The circle list's "last activity" is bounded too.
    assert [(c.channel, c.last_at) for c in store.channels()] == [("lobby", T0 + 1_000)]


def test_cursors_page_through_clamped_times_both_ways(store: Store) -> None:
    store.insert_events([note(f"old {i}", T0 - DAY + i) for i in range(3)], received_at=T0)
    store.insert_events(
        [note("2200", YEAR_2200), note("1970", 0), note("2201", YEAR_2200 + DAY)], received_at=T0
    )
    store.insert_events([note("new", T0 + 5)], received_at=T0 + 10)
    everything = texts_of(store.feed())
    assert everything == ["old 0", "old 1", "old 2", "1970", "2200", "2201", "new"]

    backwards: list[str] = []
    page = store.feed(limit=2)
    while page:
        backwards[:0] = texts_of(page)
        page = store.feed(limit=2, before=key_of(page[0]))
    forwards: list[str] = []
    page = store.feed(limit=2, after=(-1, -1, b""))
    while page:
        forwards += texts_of(page)
        page = store.feed(limit=2, after=key_of(page[-1]))

    assert backwards == forwards == everything
    assert texts_of(store.feed("lobby", limit=3, before=key_of(store.feed()[-1]))) == [
        "1970",
        "2200",
        "2201",
    ]


def test_an_existing_database_migrates_to_shown_times(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    arrivals = [
        (note("caught up", T0 - DAY), T0),
        (note("2200", YEAR_2200), T0 + 1),
        (note("1970", 0), T0 + 2),
        (note("last unset ms", UNSET_CLOCK_BEFORE - 1), T0 + 3),
        (note("first set ms", UNSET_CLOCK_BEFORE), T0 + 4),
        (note("claim = arrival", T0 + 50), T0 + 50),
        (note("one ms ahead", T0 + 61), T0 + 60),
    ]
    with closing(sqlite3.connect(path)) as db:  # a database as schema 2 left it
        for script in MIGRATIONS[:2]:
            db.executescript(script)
        db.execute("PRAGMA user_version = 2")
        db.executemany(
            "INSERT INTO events (id, author, created_at, kind, circle, received_at, raw)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(e.id, e.author, e.created_at, e.kind, e.circle, r, e.raw) for e, r in arrivals],
        )
        db.commit()

    store = Store(path)
    try:
        assert store.schema_version == len(MIGRATIONS) == 6
        # The migration's SQL and peernode.clock.shown_at agree, on both sides of each bound.
        stored = dict(store._db.execute("SELECT id, shown_at FROM events").fetchall())
        assert stored == {e.id: shown_at(e.created_at, r) for e, r in arrivals}
        assert texts_of(store.feed()) == [
            "first set ms",
            "caught up",
            "2200",
            "1970",
            "last unset ms",
            "claim = arrival",
            "one ms ahead",
        ]
        indexes = {row[1] for row in store._db.execute("PRAGMA index_list(events)")}
        assert {"events_by_time", "events_by_circle", "events_by_shown"} <= indexes
        plan = " ".join(
            str(row[-1])
            for row in store._db.execute(
                "EXPLAIN QUERY PLAN SELECT raw FROM events WHERE circle = 'lobby'"
                " ORDER BY shown_at DESC, created_at DESC, id DESC LIMIT 5"
            )
        )
        assert "events_by_circle" in plan
        assert "TEMP B-TREE" not in plan  # the index gives the order: no sort
        assert store.integrity_check() == "ok"
    finally:
        store.close()


# -- the node: events from a peer, the entries shown -------------------------------------


async def test_a_peers_wild_claims_are_shown_at_their_arrival_and_marked(home: Home) -> None:
    async with Node(home, NodeConfig(watch=False, verify_workers=1)) as node:
        node.ensure_identity()
        subscription = node.subscribe()
        hour_ago = now_ms() - 60 * 60_000
        sent = [
            note("an hour ago", hour_ago),
            note("from 2200", YEAR_2200),
            note("from 1970", 0),
            note("a few seconds fast", now_ms() + 5_000),
        ]
        start = now_ms()
        result = await node.ingest([event.raw for event in sent])
        arrived = now_ms()
        assert sorted(e.id for e in result.new) == sorted(e.id for e in sent)
        assert not result.rejected
        await asyncio.sleep(0.01)
        mine = await node.post("written after they arrived")

        feed = await node.feed("lobby")
        assert entry_texts(feed) == [
            "an hour ago",
            "from 1970",
            "a few seconds fast",
            "from 2200",
            "written after they arrived",
        ]
        entries = {entry.event.body["text"]: entry for entry in feed}
        for text in ("from 2200", "from 1970", "a few seconds fast"):
            assert start <= entries[text].shown_at == entries[text].received_at <= arrived
        assert entries["an hour ago"].shown_at == hour_ago
        assert {text: entry.clock for text, entry in entries.items()} == {
            "an hour ago": None,
            "from 2200": "ahead",
            "from 1970": "unset",
            "a few seconds fast": None,  # under AHEAD_MARK_AFTER_MS: pulled back silently
            "written after they arrived": None,
        }
        assert AHEAD_MARK_AFTER_MS > 5_000
        shown = entries["from 2200"].to_json()
        assert (shown["created_at"], shown["clock"]) == (YEAR_2200, "ahead")
        assert shown["shown_at"] == shown["received_at"]
        assert await node.raw_events([sent[1].id]) == [sent[1].raw]

        # Cursors from the entries page the same order both ways.
        assert entry_texts(await node.feed("lobby", limit=2, before=feed[-1].key)) == [
            "a few seconds fast",
            "from 2200",
        ]
        assert entry_texts(await node.feed("lobby", limit=2, after=feed[0].key)) == [
            "from 1970",
            "a few seconds fast",
        ]
        # Entries made from the live stream sort exactly where the stored ones do.
        live = [node.entry(event) for event in subscription.drain(10)]
        assert sorted(entry.key for entry in live) == [entry.key for entry in feed]
        assert node.entry(mine).key == feed[-1].key


async def test_circle_lists_and_report_use_shown_times(home: Home) -> None:
    async with Node(home, NodeConfig(watch=False, verify_workers=1)) as node:
        await node.create_identity("Ana")
        await node.circles.create("sql", name="SQL basics")
        mine = await node.circles.ask("sql", "LEFT or INNER join?")
        circle = (await node.circles.state("sql")).current
        assert circle is not None
        theirs = create_event(
            BEN,
            kind=kinds.QUESTION,
            circle="sql",
            body={"title": "asked in 2200"},
            created_at=YEAR_2200,
        )
        answer = create_event(
            BEN,
            kind=kinds.ANSWER,
            circle="sql",
            body={"text": "LEFT keeps every row of the left table"},
            refs={"question": mine.id},
            created_at=YEAR_2200,
        )
        takeover = create_event(
            BEN,
            kind=kinds.CIRCLE,
            circle="sql",
            body={"name": "Ben's circle from 2200"},
            refs={"updates": circle.id},
            created_at=YEAR_2200,
        )
        await node.ingest([theirs.raw, answer.raw, takeover.raw])

        state = await node.circles.state("sql")
        assert [q.title for q in state.questions] == ["LEFT or INNER join?", "asked in 2200"]
        assert all(q.shown_at <= now_ms() for q in state.questions)
        assert state.questions[1].created_at == YEAR_2200  # the claim is kept beside it
        report = await node.circles.report("sql")
        assert report.median_first_answer_ms is not None
        assert report.median_first_answer_ms < 60_000  # not the two centuries claimed

        # The 2200 version is current (the newest head, docs/protocol-circles.md rule 3),
        # and the next update replaces it by its `updates` ref, at today's time.
        assert state.title == "Ben's circle from 2200"
        update = await node.circles.update("sql", name="SQL basics")
        assert update.created_at <= now_ms()
        assert (await node.circles.state("sql")).title == "SQL basics"


# -- the CLI ------------------------------------------------------------------------------


async def _received(home: Home, events: list[Event]) -> None:
    async with Node(home, NodeConfig(watch=False, verify_workers=1)) as node:
        result = await node.ingest([event.raw for event in events])
        assert len(result.new) == len(events)


def test_peernode_feed_shows_the_clamped_time_and_the_mark(tmp_path: Path, run_cli: RunCli) -> None:
    home = tmp_path / "home"
    hour_ago = now_ms() - 60 * 60_000
    start = now_ms()
    asyncio.run(
        _received(
            Home(home),
            [note("from 2200", YEAR_2200), note("from 1970", 0), note("earlier", hour_ago)],
        )
    )

    listed = run_cli("feed", "--json", "--home", str(home))
    assert listed.returncode == 0, listed.stderr
    entries = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [e["body"]["text"] for e in entries] == ["earlier", "from 1970", "from 2200"]
    by_text = {e["body"]["text"]: e for e in entries}
    assert by_text["from 2200"]["created_at"] == YEAR_2200
    assert by_text["from 2200"]["shown_at"] == by_text["from 2200"]["received_at"] >= start
    assert [e["clock"] for e in entries] == [None, "unset", "ahead"]

    shown = run_cli("feed", "--home", str(home))
    assert shown.returncode == 0, shown.stderr
    heads = [line for line in shown.stdout.splitlines() if not line.startswith("    ")]

    def when(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")

    assert heads[0].startswith(when(hour_ago) + "  ")
    assert heads[1].startswith(when(by_text["from 1970"]["shown_at"]) + " (clock not set)  ")
    assert heads[2].startswith(when(by_text["from 2200"]["shown_at"]) + " (clock ahead)  ")
    assert "2200-" not in shown.stdout
    assert "1970-" not in shown.stdout


# -- two nodes over loopback ---------------------------------------------------------------


async def test_linked_nodes_each_show_a_wild_claim_at_their_own_arrival(tmp_path: Path) -> None:
    async with running(tmp_path / "a", "Ada") as a:
        wild = await a.publish(
            kinds.NOTE, circle="lobby", body={"text": "my clock says 2200"}, created_at=YEAR_2200
        )
        (at_a,) = [e for e in await a.feed("lobby") if e.event.id == wild.id]
        await asyncio.sleep(0.05)  # so that b's arrival is later than a's
        async with running(tmp_path / "b", "Ben", peers=[(HOST, port_of(a))]) as b:
            await eventually(lambda: linked_to(b, a), "b to link with a")

            async def at_b() -> list[FeedEntry]:
                return [e for e in await b.feed("lobby") if e.event.id == wild.id]

            (got,) = await eventually(at_b, "the 2200 note at b")
            assert got.event.raw == wild.raw  # forwarded as signed
            assert got.shown_at == got.received_at > at_a.shown_at == at_a.received_at
            assert (got.clock, at_a.clock) == ("ahead", "ahead")

            await asyncio.sleep(0.01)
            later = await b.post("a note written after it arrived")

            async def last_at_a() -> bool:
                return (await a.feed("lobby"))[-1].event.id == later.id

            await eventually(last_at_a, "b's later note at a, below the 2200 one")
            assert [e.event.id for e in await b.feed("lobby")][-2:] == [wild.id, later.id]
