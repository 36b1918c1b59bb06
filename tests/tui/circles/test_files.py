"""Files on the circle page: a card each, beside the links; f fetches them all, and a
download shows a real progress bar; whoever shared a file sees how many laptops have it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.screen import Screen
from textual.widgets import Button, ProgressBar, Static

from peernode.files import FilesConfig
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig
from tests.peernode.test_files import FILES, write
from tests.support.waiting import eventually
from tests.tui.circles.helpers import CIRCLE, open_circle_screen
from tests.tui.helpers import fixed_clock, running, wait_for
from tui.app import PeernodeApp
from tui.circles.page import CirclePage
from tui.files import FileCard

NETWORK = NetworkConfig(port=0, host="127.0.0.1", mdns=False)


def box(page: CirclePage, selector: str) -> str:
    found = page.query_one(selector)
    content = found.content if isinstance(found, Static) else ""
    return f"{found.border_title}\n{content}"


def card_ready(page: Screen[object]) -> bool:
    """A file card is composed and shown (its buttons can be pressed)."""
    buttons = page.query(".file-card Button").results(Button)
    return any(button.display for button in buttons)


def card_text(card: FileCard) -> str:
    lines = card.query(".file-title, .file-details, .file-status").results(Static)
    statics = [line for line in lines if line.display]
    return "\n".join(str(s.content) for s in statics)


def shown_buttons(card: FileCard) -> list[str]:
    return [str(button.label) for button in card.query(Button) if button.display]


async def test_a_shared_file_shows_as_a_card_beside_the_links(
    circle_room: Home, tmp_path: Path
) -> None:
    slides = tmp_path / "week1.pdf"
    slides.write_bytes(b"%PDF-1.4 slides" * 100)
    async with running(circle_room, size=(100, 40)) as (app, pilot):
        page = await open_circle_screen(app, pilot, "g")
        assert isinstance(page, CirclePage)
        assert not page.query_one("#circle-files").display  # no files: no box
        await app.node.files.share(slides, CIRCLE, title="Week 1 slides")
        await wait_for(pilot, lambda: card_ready(page))
        await pilot.pause()
        card = page.query_one(FileCard)
        assert card_text(card).splitlines() == [
            "Week 1 slides",
            "week1.pdf · file · 1.5 KB · on this laptop",
            "Shared by you. How many laptops have it shows once you are linked to the room.",
        ]
        assert shown_buttons(card) == ["Save", "Open"]
        assert not card.query_one(ProgressBar).display
        assert page.query_one("#circle-files").border_title == "Files (1)"
        assert "Resources (1)" in box(page, "#circle-resources")
        assert "https://example.org/sql-course" in box(page, "#circle-resources")
        await pilot.press("f")
        await wait_for(
            pilot,
            lambda: any("Every file of this circle" in str(n.message) for n in app._notifications),
        )


async def test_get_shows_a_progress_bar_until_the_file_is_here(
    circle_room: Home, tmp_path: Path
) -> None:
    data = write(tmp_path / "lecture.mp4", 160 * 1024)
    ana_config = NodeConfig(
        network=NETWORK,
        watch_interval=0.05,
        verify_workers=1,
        files=replace(FILES, auto_fetch_bytes=0),  # on demand: the learner presses Get
    )
    async with Node(circle_room, ana_config) as ana:
        app = PeernodeApp(ana, clock=fixed_clock, no_peer_after=0.0, status_interval=0.5)
        async with app.run_test(size=(100, 40)) as pilot:
            await wait_for(pilot, lambda: ana.online)
            assert ana._network is not None
            bo_network = replace(NETWORK, peers=(("127.0.0.1", ana._network.port or 0),))
            slow = FilesConfig(rules=FILES.rules, serve_rate=160_000)  # about a second
            bo_config = NodeConfig(network=bo_network, watch=False, files=slow)
            async with Node(Home(tmp_path / "bo"), bo_config) as bo:
                await bo.create_identity("Bo")
                await bo.start_network()
                page = await open_circle_screen(app, pilot, "g")
                assert isinstance(page, CirclePage)
                await bo.files.share(tmp_path / "lecture.mp4", CIRCLE, title="Lecture 1")
                await wait_for(pilot, lambda: card_ready(page))
                await pilot.pause()
                card = page.query_one(FileCard)
                assert "lecture.mp4 · file · 164 KB · not here yet" in card_text(card)
                assert shown_buttons(card) == ["Get"]
                await eventually(lambda: ana._network.linked_addresses(), "Ana linked to Bo")  # type: ignore[union-attr]
                await pilot.click(".file-get")
                bar = card.query_one(ProgressBar)
                await wait_for(pilot, lambda: 0 < (bar.progress or 0) < len(data))
                assert bar.display
                assert bar.total == len(data)
                assert " of 164 KB" in card_text(card)
                assert "from 1 laptop" in card_text(card)
                await wait_for(pilot, lambda: card.shared.complete)
                await pilot.pause()
                assert shown_buttons(card) == ["Save", "Open"]
                assert "lecture.mp4 · file · 164 KB · on this laptop" in card_text(card)
                assert not bar.display
                notices = [str(n.message) for n in app._notifications]
                assert "lecture.mp4 is on this laptop." in notices


async def test_whoever_shared_a_file_sees_how_many_laptops_have_it(
    circle_room: Home, tmp_path: Path
) -> None:
    slides = tmp_path / "week1.pdf"
    slides.write_bytes(b"%PDF-1.4 slides" * 100)
    config = NodeConfig(network=NETWORK, watch_interval=0.05, verify_workers=1, files=FILES)
    async with Node(circle_room, config) as ana:
        app = PeernodeApp(ana, clock=fixed_clock, no_peer_after=0.0, status_interval=0.5)
        async with app.run_test(size=(100, 40)) as pilot:
            await wait_for(pilot, lambda: ana.online)
            assert ana._network is not None
            ben_network = replace(NETWORK, peers=(("127.0.0.1", ana._network.port or 0),))
            ben_config = NodeConfig(network=ben_network, watch=False, files=FILES)
            async with Node(Home(tmp_path / "ben"), ben_config) as ben:
                await ben.create_identity("Bo")
                await ben.start_network()
                page = await open_circle_screen(app, pilot, "g")
                assert isinstance(page, CirclePage)
                shared = await ana.files.share(slides, CIRCLE, title="Week 1 slides")
                await wait_for(pilot, lambda: page.holders_counted > 0)
                card = page.query_one(FileCard)
                assert "on no other laptop yet: stay until someone has fetched it" in card_text(
                    card
                )
                await eventually(lambda: ben.files.list(CIRCLE), "the file at Bo's")
                await ben.files.get(shared.id)
                counted = page.holders_counted
                page.changed()  # the page asks again when it reloads
                await wait_for(pilot, lambda: page.holders_counted > counted)
                assert "Shared by you, available on 1 other laptop." in card_text(card)
