"""A file's card: Save a copy (never over anything: a free name), Open it with the
system's opener (a fake one here, set as a learner would, in the environment), and the
card opened from the feed with Enter."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, Input, Static

from peernode.files import Progress
from peernode.home import Home
from peernode.views import FILE_KIND
from protocol import kinds
from protocol.event import Event
from protocol.files.blob import BLOB_ID_BYTES, BLOB_VERSION
from tests.tui.circles.helpers import CIRCLE, event, open_circle_screen, steady_on
from tests.tui.circles.test_files import card_ready
from tests.tui.helpers import BO, MINUTE, NOW, main_screen, running, store, wait_for
from tests.tui.test_snapshots import HostedApp
from tui.app import PeernodeApp
from tui.circles.page import CirclePage
from tui.files import FileCard, FileDesk, FileDialog, SaveDialog
from tui.files.desk import DOWNLOADS_ENV, OPENER_ENV

SLIDES = b"%PDF-1.4 slides" * 100


def notices(app: PeernodeApp) -> list[str]:
    return [str(notice.message) for notice in app._notifications]


async def my_card(app: PeernodeApp, pilot: object, slides: Path) -> FileCard:
    """The circle page with the card of a file Ana shared."""
    page = await open_circle_screen(app, pilot, "g")  # type: ignore[arg-type]
    assert isinstance(page, CirclePage)
    await app.node.files.share(slides, CIRCLE, title="Week 1 slides")
    await wait_for(pilot, lambda: card_ready(page))  # type: ignore[arg-type]
    return page.query_one(FileCard)


@pytest.fixture
def slides(tmp_path: Path) -> Path:
    path = tmp_path / "week1.pdf"
    path.write_bytes(SLIDES)
    return path


async def test_save_puts_a_copy_under_a_free_name(
    circle_room: Home, tmp_path: Path, slides: Path
) -> None:
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    (downloads / "week1.pdf").write_bytes(b"mine, not to be overwritten")
    desk = FileDesk(downloads=downloads, opener=None)
    async with running(circle_room, size=(100, 40), file_desk=desk) as (app, pilot):
        card = await my_card(app, pilot, slides)
        card.query_one(".file-save", Button).press()
        await wait_for(pilot, lambda: isinstance(app.screen, SaveDialog))
        dialog = app.screen
        field = dialog.query_one("#save-folder", Input)
        assert field.value == str(downloads)
        field.value = str(tmp_path / "nowhere")
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = str(dialog.query_one("#dialog-error", Static).content)
        assert error == (
            f"⚠ {tmp_path / 'nowhere'} is not a folder on this laptop: type one that exists,"
            f" for example {downloads}."
        )
        field.value = str(downloads)
        await pilot.press("ctrl+s")
        copy = downloads / "week1 (2).pdf"
        await wait_for(pilot, lambda: f"Saved a copy as {copy}." in notices(app))
    assert copy.read_bytes() == SLIDES
    assert (downloads / "week1.pdf").read_bytes() == b"mine, not to be overwritten"


async def test_open_runs_the_configured_opener_on_a_saved_copy(
    circle_room: Home, tmp_path: Path, slides: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    opened = tmp_path / "opened.txt"
    opener = tmp_path / "fake-opener"
    opener.write_text(f'#!/bin/sh\nprintf "%s|%s\\n" "$1" "$2" >> {opened}\n')
    opener.chmod(opener.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(OPENER_ENV, f"{opener} --new-window")
    monkeypatch.setenv(DOWNLOADS_ENV, str(downloads))
    async with running(circle_room, size=(100, 40)) as (app, pilot):
        card = await my_card(app, pilot, slides)
        card.query_one(".file-open", Button).press()
        copy = downloads / "week1.pdf"
        await wait_for(
            pilot, lambda: f"Opened week1.pdf (a copy saved in {downloads})." in notices(app)
        )
        assert opened.read_text() == f"--new-window|{copy}\n"
        card.query_one(".file-open", Button).press()  # again: the same copy, not another
        await wait_for(pilot, lambda: opened.read_text().count("\n") == 2)
        assert opened.read_text() == f"--new-window|{copy}\n" * 2
    assert copy.read_bytes() == SLIDES
    assert sorted(p.name for p in downloads.iterdir()) == ["week1.pdf"]


async def test_with_no_opener_it_says_where_the_copy_is(
    circle_room: Home, tmp_path: Path, slides: Path
) -> None:
    desk = FileDesk(downloads=tmp_path, opener=None)
    async with running(circle_room, size=(100, 40), file_desk=desk) as (app, pilot):
        card = await my_card(app, pilot, slides)
        card.query_one(".file-open", Button).press()
        await wait_for(pilot, lambda: any("No program to open files" in n for n in notices(app)))
    (notice,) = [n for n in notices(app) if "No program" in n]
    copy = tmp_path / "week1 (2).pdf"  # week1.pdf there is the original
    assert notice == (
        f"No program to open files was found here: the copy is saved as {copy};"
        " open it from your file manager."
    )


async def test_an_opener_that_fails_gets_one_sentence(
    circle_room: Home, tmp_path: Path, slides: Path
) -> None:
    desk = FileDesk(downloads=tmp_path / "out", opener=("false",))
    (tmp_path / "out").mkdir()
    async with running(circle_room, size=(100, 40), file_desk=desk) as (app, pilot):
        card = await my_card(app, pilot, slides)
        card.query_one(".file-open", Button).press()
        copy = tmp_path / "out" / "week1.pdf"
        expected = (
            f"false could not open it: the copy is saved as {copy}; open it from your file manager."
        )
        await wait_for(pilot, lambda: expected in notices(app))


async def test_enter_on_a_file_in_the_feed_opens_its_card(circle_room: Home, slides: Path) -> None:
    async with running(circle_room, size=(100, 40)) as (app, pilot):
        screen = await main_screen(app, pilot)
        await app.node.files.share(slides, CIRCLE, title="Week 1 slides")
        screen.switch_channel(CIRCLE)
        await wait_for(
            pilot, lambda: any(r.entry.event.kind == FILE_KIND for r in screen.feed.rows)
        )
        screen.feed.focus()
        await pilot.press("end", "enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, FileDialog) and bool(app.screen.query(FileCard))
        )
        card = app.screen.query_one(FileCard)
        assert card.shared.title == "Week 1 slides"
        assert app.screen.focused is card.query_one(".file-save", Button)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, FileDialog))


def test_the_desk_is_read_from_the_environment(tmp_path: Path) -> None:
    desk = FileDesk.from_env({OPENER_ENV: "my-viewer --tab", DOWNLOADS_ENV: str(tmp_path)})
    assert desk == FileDesk(downloads=tmp_path, opener=("my-viewer", "--tab"))
    assert FileDesk.from_env({OPENER_ENV: "", DOWNLOADS_ENV: str(tmp_path)}).opener is None
    xdg = FileDesk.from_env({"XDG_DOWNLOAD_DIR": str(tmp_path / "dl"), OPENER_ENV: ""})
    assert xdg.downloads == tmp_path / "dl"


LECTURE_BLOB = bytes([BLOB_VERSION]) + b"\x11" * (BLOB_ID_BYTES - 1)
"""A blob no laptop here holds: the card of a file still to fetch."""


def lecture_event() -> Event:
    body = {"name": "lecture1.mp4", "size": 1500, "type": "file", "blob": LECTURE_BLOB}
    return event(BO, kinds.FILE, {**body, "title": "Lecture 1"}, at=NOW - 5 * MINUTE)


def test_a_card_with_a_download_under_way_snapshot(
    snap_compare: Any, circle_room: Home, utc: None
) -> None:
    asyncio.run(store(circle_room, [lecture_event()]))

    async def run_before(pilot: Any) -> None:
        await steady_on(pilot, "g")
        page = pilot.app.screen
        await wait_for(pilot, lambda: card_ready(page))
        card = page.query_one(FileCard)
        card.fetching = True  # as while Get runs: the bar, and what it says
        card.show_progress(Progress(LECTURE_BLOB, 600, 1500, 3000.0, 2))
        page.query_one("#circle-left").scroll_end(animate=False)
        await pilot.pause()

    assert snap_compare(HostedApp(circle_room), terminal_size=(100, 32), run_before=run_before)


async def test_a_get_that_cannot_start_says_why_and_can_be_tried_again(circle_room: Home) -> None:
    await store(circle_room, [lecture_event()])
    async with running(circle_room, size=(100, 40)) as (app, pilot):  # offline: no laptop to ask
        page = await open_circle_screen(app, pilot, "g")
        await wait_for(pilot, lambda: card_ready(page))
        card = page.query_one(FileCard)
        get = card.query_one(".file-get", Button)
        get.press()
        await wait_for(pilot, lambda: bool(notices(app)))
        assert notices(app) == ["networking is not running; start 'peernode serve' or 'peernode'"]
        await wait_for(pilot, lambda: not get.disabled)
        assert not card.fetching
        assert [str(b.label) for b in card.query(Button) if b.display] == ["Get"]
