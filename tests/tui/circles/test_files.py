"""Files among a circle's resources on the circle page: shown beside links, fetched with f."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.widgets import Static

from peernode.files import Progress, SharedFile
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig
from tests.peernode.test_files import FILES
from tests.support.waiting import eventually
from tests.tui.circles.helpers import CIRCLE, open_circle_screen
from tests.tui.helpers import fixed_clock, running, wait_for
from tui.app import PeernodeApp
from tui.circles.page import CirclePage, resources_text


def resources(page: CirclePage) -> str:
    box = page.query_one("#circle-resources", Static)
    return f"{box.border_title}\n{box.content}"


async def test_a_shared_file_shows_beside_the_links(circle_room: Home, tmp_path: Path) -> None:
    slides = tmp_path / "week1.pdf"
    slides.write_bytes(b"%PDF-1.4 slides" * 100)
    async with running(circle_room, size=(100, 30)) as (app, pilot):
        page = await open_circle_screen(app, pilot, "g")
        assert isinstance(page, CirclePage)
        assert "Resources (1)" in resources(page)
        await app.node.files.share(slides, CIRCLE, title="Week 1 slides")
        await wait_for(pilot, lambda: "Week 1 slides" in resources(page))
        text = resources(page)
        assert "Resources (2)" in text
        assert "▤ Week 1 slides (file, 1.5 KB, on this laptop) shared by Ana" in text
        assert "https://example.org/sql-course" in text
        await pilot.press("f")
        await wait_for(
            pilot,
            lambda: any("Every file of this circle" in str(n.message) for n in app._notifications),
        )


async def test_a_download_under_way_shows_its_progress(circle_room: Home, tmp_path: Path) -> None:
    lecture = tmp_path / "lecture.mp4"
    lecture.write_bytes(bytes(1000))
    async with running(circle_room, size=(100, 30)) as (app, pilot):
        page = await open_circle_screen(app, pilot, "g")
        assert isinstance(page, CirclePage)
        shared = await app.node.files.share(lecture, CIRCLE, title="Lecture 1")
        state = page.state
        assert state is not None
        elsewhere = SharedFile(shared.event, "Bo", 0, False)  # as another laptop sees it
        progress = Progress(shared.blob, 400, 1000, 2000.0, 2, False)
        line = resources_text(state, page.name_of, [elsewhere], {shared.id: progress})
        assert "▤ Lecture 1 (file, 1.0 KB, 400 bytes of 1.0 KB · 2.0 KB/s" in line
        assert "from 2 laptops) shared by Bo" in line
        assert "not here yet" in resources_text(state, page.name_of, [elsewhere], {})


async def test_whoever_shared_a_file_sees_how_many_laptops_have_it(
    circle_room: Home, tmp_path: Path
) -> None:
    slides = tmp_path / "week1.pdf"
    slides.write_bytes(b"%PDF-1.4 slides" * 100)
    network = NetworkConfig(port=0, host="127.0.0.1", mdns=False)
    config = NodeConfig(network=network, watch_interval=0.05, verify_workers=1, files=FILES)
    async with Node(circle_room, config) as ana:
        app = PeernodeApp(ana, clock=fixed_clock, no_peer_after=0.0, status_interval=0.5)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: ana.online)
            assert ana._network is not None
            ben_network = replace(network, peers=(("127.0.0.1", ana._network.port or 0),))
            ben_config = NodeConfig(network=ben_network, watch=False, files=FILES)
            async with Node(Home(tmp_path / "ben"), ben_config) as ben:
                await ben.create_identity("Bo")
                await ben.start_network()
                page = await open_circle_screen(app, pilot, "g")
                assert isinstance(page, CirclePage)
                shared = await ana.files.share(slides, CIRCLE, title="Week 1 slides")
                await wait_for(pilot, lambda: "on no other laptop yet" in resources(page))
                await eventually(lambda: ben.files.list(CIRCLE), "the file at Bo's")
                await ben.files.get(shared.id)
                counted = page.holders_counted
                page.changed()  # the page asks again when it reloads
                await wait_for(pilot, lambda: page.holders_counted > counted)
                assert "shared by Ana, on 1 other laptop" in resources(page)
