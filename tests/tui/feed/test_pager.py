"""FeedPager and FeedWindow: paging both ways reaches every note once, in order."""

from __future__ import annotations

import asyncio

import pytest

from peernode.home import Home
from peernode.node import Node, NodeConfig
from peernode.views import channel_problem
from protocol.event import Event
from tests.tui.helpers import ANA, BO, install_key, note, profile, store
from tui.dialogs.add_peer import parse_address
from tui.feed.pager import FeedPager, key_of
from tui.feed.window import FeedWindow, thread

BASE = 1_650_000_000_000


def many_notes() -> list[Event]:
    """Some notes share a millisecond, one millisecond holds more than a page."""
    times = (
        [BASE + i * 7 for i in range(40)] + [BASE + 500] * 12 + [BASE + 1000 + i for i in range(9)]
    )
    return [note(ANA if i % 2 else BO, f"n{i}", channel="c", at=t) for i, t in enumerate(times)]


@pytest.fixture
def notes_home(home: Home) -> tuple[Home, list[Event]]:
    install_key(home, ANA)
    events = many_notes()
    asyncio.run(store(home, [profile(ANA, "Ana"), *events]))
    return home, sorted(events, key=lambda e: (e.created_at, e.id))


async def test_paging_forwards_from_the_oldest_reaches_every_note(notes_home) -> None:
    home, events = notes_home
    async with Node(home, NodeConfig(watch=False)) as node:
        pager = FeedPager(node, size=5)
        page = await pager.oldest("c")
        seen = [e.event.id for e in page.entries]
        assert page.at_oldest
        assert not page.at_newest
        while not page.at_newest:
            page = await pager.newer("c", key_of(page.entries[-1]))
            assert page.entries
            seen += [e.event.id for e in page.entries]
        assert seen == [e.id for e in events]


async def test_paging_backwards_from_the_newest_reaches_every_note(notes_home) -> None:
    home, events = notes_home
    async with Node(home, NodeConfig(watch=False)) as node:
        pager = FeedPager(node, size=5)
        page = await pager.newest("c")
        seen = [e.event.id for e in page.entries]
        while not page.at_oldest:
            page = await pager.older("c", key_of(page.entries[0]))
            seen = [e.event.id for e in page.entries] + seen
        assert seen == [e.id for e in events]


async def test_window_stays_bounded_and_knows_its_ends(notes_home) -> None:
    home, _events = notes_home
    async with Node(home, NodeConfig(watch=False)) as node:
        entries = await node.feed("c")
    window = FeedWindow(limit=20)
    window.reset(entries[-10:], at_oldest=False, at_newest=True)
    window.add_older(entries[-30:-10], at_oldest=False)
    assert len(window.entries) == 20
    assert not window.at_newest  # the newest were dropped to stay bounded
    window.add_newer(entries[-10:], at_newest=True)
    assert len(window.entries) == 20
    assert window.at_newest
    assert not window.at_oldest
    assert window.entries == entries[-20:]
    assert not window.add_live(entries[0])  # older than the window: not shown
    assert not window.add_live(entries[-1])  # already there


def test_thread_puts_replies_under_their_parent() -> None:
    from peernode.views import FeedEntry

    root = note(ANA, "root", at=BASE)
    other = note(BO, "other", at=BASE + 1)
    reply = note(BO, "reply", at=BASE + 2, reply_to=root)
    orphan = note(BO, "orphan", at=BASE + 3, reply_to=note(ANA, "gone", at=BASE - 1))
    rows = thread(FeedEntry(e, "x", 0) for e in [root, other, reply, orphan])
    assert [(r.entry.event.body["text"], r.depth, r.orphan) for r in rows] == [
        ("root", 0, False),
        ("reply", 1, False),
        ("other", 0, False),
        ("orphan", 0, True),
    ]


def test_addresses_and_channel_names() -> None:
    assert parse_address("192.168.1.20:7654") == ("192.168.1.20", 7654)
    assert parse_address("[fe80::1]:80") == ("fe80::1", 80)
    assert parse_address("nowhere") == ("nowhere", 7420)
    for bad in ("", "host:0", "host:http", "fe80::zz:80", ":80"):
        with pytest.raises(ValueError, match=r"address|port|brackets"):
            parse_address(bad)
    assert channel_problem("rust-101") is None
    assert channel_problem("Rust") is not None
    assert channel_problem("") is not None
