"""A channel of 100,000 notes: the feed loads pages, never the whole channel."""

from __future__ import annotations

import multiprocessing
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from peernode.home import DB_FILE, Home
from peernode.storage.store import Store
from protocol.event import load_verified
from tests.tui.helpers import (
    ANA,
    BIG_CHANNEL,
    install_key,
    main_screen,
    profile,
    running,
    sign_big_range,
    wait_for,
)
from tui.feed.pager import PAGE
from tui.feed.window import MAX_WINDOW

BIG = 100_000
CHUNK = 10_000


def build_big_db(path: Path) -> None:
    """Sign BIG notes on two processes and store them in batches."""
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    store = Store(partial)
    try:
        store.insert_events([profile(ANA, "Ana")], 0)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(2, mp_context=context) as pool:
            starts = range(0, BIG, CHUNK)
            stops = [start + CHUNK for start in starts]
            for raws in pool.map(sign_big_range, starts, stops):
                store.insert_events([load_verified(raw) for raw in raws], 0)
    finally:
        store.close()
    partial.replace(path)


@pytest.fixture(scope="session")
def big_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The database of the big channel, built once and kept in pytest's cache."""
    cache = getattr(request.config, "cache", None)
    folder = cache.mkdir("peernode-tui") if cache is not None else tmp_path_factory.mktemp("big")
    path = folder / f"big-channel-{BIG}-v1.db"
    if not path.exists():
        build_big_db(path)
    return path


@pytest.fixture
def big_home(home: Home, big_db: Path) -> Home:
    install_key(home, ANA)
    shutil.copyfile(big_db, home.path / DB_FILE)
    return home


def text_of_row(screen_feed: object, index: int) -> str:
    rows = screen_feed.rows  # type: ignore[attr-defined]
    return str(rows[index].entry.event.body["text"])


async def test_a_channel_of_100k_notes_scrolls_to_both_ends(big_home: Home) -> None:
    async with running(big_home, size=(80, 24)) as (app, pilot):
        screen = await main_screen(app, pilot)
        feed = screen.feed
        assert screen.channel == BIG_CHANNEL
        assert len(feed.window.entries) == PAGE
        assert text_of_row(feed, -1) == f"note {BIG - 1}"

        # scrolling up past the loaded notes loads the page before them
        feed.scroll_home(animate=False, immediate=True)
        await pilot.press("up")
        # Generous waits: a page takes well under a second, but a loaded CI machine has
        # stretched one past 10 s.
        await wait_for(
            pilot, lambda: len(feed.window.entries) > PAGE and not feed.fetching, within=30
        )

        await pilot.press("home")  # to the very first note
        await wait_for(pilot, lambda: feed.window.at_oldest and not feed.fetching, within=30)
        assert text_of_row(feed, 0) == "note 0"
        assert feed.selected_entry is not None
        assert feed.selected_entry.event.body["text"] == "note 0"

        for _ in range(3):  # down past the loaded notes: the next page comes in
            feed.scroll_end(animate=False, immediate=True)
            before = feed.window.newest
            await pilot.press("pagedown")
            await wait_for(
                pilot, lambda b=before: feed.window.newest != b and not feed.fetching, within=30
            )
        assert len(feed.window.entries) <= MAX_WINDOW

        await pilot.press("end")  # back to the newest
        await wait_for(pilot, lambda: feed.window.at_newest and not feed.fetching, within=30)
        assert text_of_row(feed, -1) == f"note {BIG - 1}"
        assert len(feed.window.entries) <= MAX_WINDOW
