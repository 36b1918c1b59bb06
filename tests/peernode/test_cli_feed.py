"""`peernode feed` as text: every event as a sentence or a card, never raw fields."""

from __future__ import annotations

import asyncio
import json

import pytest

from peernode.home import Home
from protocol import kinds
from tests.conftest import RunCli
from tests.tui.circles.helpers import CIRCLE
from tests.tui.feed.helpers import every_kind_events, raw_looks
from tests.tui.helpers import ANA, install_key, store


@pytest.fixture
def every_kind(home: Home, utc: None) -> Home:
    install_key(home, ANA)
    asyncio.run(store(home, every_kind_events()))
    return home


def test_the_feed_of_a_circle_reads_as_sentences_and_cards(
    every_kind: Home, invoke_cli: RunCli
) -> None:
    result = invoke_cli("feed", "--home", str(every_kind.path), "--channel", CIRCLE)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert raw_looks(text) == []
    card = (
        "    Meeting on Tue 2023-11-14 19:13, 1 h 30\n"
        "    Where: Library, room 2\n"
        "    Facilitator: Bo (ni4a-hvpq)\n"
        "    Coursework: Chapter 2: joins\n"
        "    Activity: Join puzzles (20 min)\n"
        "    Going: Ana and Bo · maybe: Chen · not going: Dee\n"
        "    Ana, Bo and Chen were there\n"
    )
    assert card in text
    for line in (
        "    Bo checked in: feeling keen; working on joins; needs help with outer joins",
        "    Question: LEFT or RIGHT join?",
        "    Answer to “LEFT or RIGHT join?”",
        "    ✓ Bo marked “LEFT or RIGHT join?” resolved: Chen's answer helped",
        "    Chen joined the circle",
        "    [example/poll@1] not understood by this version (kept and passed on)",
    ):
        assert line in text, line
    # RSVPs and attendance are in the card, not lines of their own
    assert "is going to" not in text
    assert "was at the meeting" not in text


def test_the_json_feed_keeps_every_event(every_kind: Home, invoke_cli: RunCli) -> None:
    result = invoke_cli("feed", "--json", "--home", str(every_kind.path), "--channel", CIRCLE)
    listed = [json.loads(line)["kind"] for line in result.stdout.splitlines()]
    assert listed.count(kinds.RSVP) == 4
    assert listed.count(kinds.ATTENDANCE) == 1
