"""Notes from clocks far ahead or never set: shown at their arrival, marked, in arrival order."""

from __future__ import annotations

from peernode.circles.model import Question
from peernode.clock import now_ms
from peernode.home import Home
from peernode.node import Node, NodeConfig
from peernode.text import local_time
from tests.support.rendering import plain
from tests.tui.helpers import (
    ANA,
    BO,
    MINUTE,
    feed_texts,
    install_key,
    main_screen,
    note,
    profile,
    running,
    type_text,
    wait_for,
)
from tui.circles.qa_view import detail_view
from tui.screens.main import MainScreen

YEAR_2200 = 7_258_118_400_000


def shown_lines(screen: MainScreen) -> list[str]:
    feed = screen.feed
    return [feed.render_line(y).text for y in range(feed.size.height)]


def header_of(screen: MainScreen, text: str) -> str:
    lines = shown_lines(screen)
    body = next(i for i, line in enumerate(lines) if line.strip() == text)
    return lines[body - 1]


async def test_the_feed_shows_a_wild_claim_at_its_arrival_with_a_mark(home: Home) -> None:
    install_key(home, ANA)
    now = now_ms()
    received = [
        profile(ANA, "Ana", at=now - 60 * MINUTE),
        profile(BO, "Bo", at=now - 60 * MINUTE),
        note(ANA, "Welcome to the lobby", at=now - 30 * MINUTE),
        note(BO, "my clock says 2200", at=YEAR_2200),
        note(BO, "my clock was never set", at=0),
    ]
    async with Node(home, NodeConfig(watch=False, verify_workers=1)) as node:
        result = await node.ingest([event.raw for event in received])  # as from a peer
        assert len(result.new) == len(received)

    async with running(home, clock=now_ms) as (app, pilot):
        screen = await main_screen(app, pilot)
        assert feed_texts(screen) == [
            "Welcome to the lobby",
            "my clock was never set",
            "my clock says 2200",
        ]
        assert header_of(screen, "Welcome to the lobby").rstrip().endswith("· 30 min ago")
        ahead = header_of(screen, "my clock says 2200")
        assert "· just now · clock ahead" in ahead
        assert "ahead of your clock" not in ahead
        assert "· just now · clock not set" in header_of(screen, "my clock was never set")

        # A note written now arrives after the 2200 one, and is shown below it.
        await pilot.press("w")
        await type_text(pilot, "written after")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: feed_texts(screen)[-1:] == ["written after"])
        assert feed_texts(screen)[-2] == "my clock says 2200"
        assert "clock" not in header_of(screen, "written after").rpartition("·")[2]


def test_a_question_from_a_clock_ahead_shows_its_arrival_time() -> None:
    arrived = 1_767_225_600_000
    question = Question(
        id=b"\x01" * 32,
        author=BO.public_key,
        created_at=YEAR_2200,
        shown_at=arrived,
        title="Why is my clock wrong?",
        text="",
        tags=(),
    )

    detail = plain(detail_view(question, lambda key: "Bo", None), width=100)

    assert f"· {local_time(arrived)} (clock ahead)" in detail
    assert "2200-" not in detail
