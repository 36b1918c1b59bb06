"""The challenges screen of a circle: browse, start, and review with the rubric."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Select, SelectionList, Static, TextArea

from peernode.home import Home
from peernode.node import Node, NodeConfig
from protocol import kinds
from tests.support.rendering import plain
from tests.tui.circles.helpers import CIRCLE, event, fill, open_circle_screen
from tests.tui.helpers import (
    ANA,
    BO,
    CHEN,
    MINUTE,
    NOW,
    install_key,
    main_screen,
    running,
    store,
    wait_for,
)
from tui.app import PeernodeApp
from tui.challenges import ChallengesScreen, ReviewDialog, SubmitDialog
from tui.challenges.buddy import BuddyDialog
from tui.screens.profile import ProfileScreen


def said(app: PeernodeApp, title: str) -> bool:
    return any(notice.title == title for notice in app._notifications)


CRITERIA = [
    {"name": "Correct", "meets": "the rows asked for"},
    {"name": "Explained", "meets": "why"},
]


@pytest.fixture
def challenge_room(home: Home) -> Home:
    """Ana's home with the circle of the circle tests, a challenge by Chen, Bo's work."""
    from tests.tui.circles.helpers import circle_events

    challenge = event(
        CHEN,
        kinds.CHALLENGE,
        {"title": "Joins", "question": "Who never ordered?", "tasks": ["Write joins"],
         "criteria": CRITERIA, "badge": {"name": "Join explorer"}, "reviews": 1},
        at=NOW - 20 * MINUTE,
    )  # fmt: skip
    work = event(BO, kinds.SUBMISSION, {"text": "SELECT *\nFROM a LEFT JOIN b"},
                 at=NOW - 10 * MINUTE, challenge=challenge.id)  # fmt: skip
    install_key(home, ANA)
    asyncio.run(store(home, [*circle_events(), challenge, work]))
    return home


async def reviews_by_ana(home: Home) -> list[str]:
    async with Node(home, NodeConfig(watch=False)) as node:
        (challenge,) = await node.challenges.in_circle(CIRCLE)
        return [r.verdict for s in challenge.submissions for r in s.reviews]


async def test_browse_start_and_review_with_the_rubric(challenge_room: Home) -> None:
    async with running(challenge_room, size=(120, 40)) as (app, pilot):
        screen = await open_circle_screen(app, pilot, "l")
        assert isinstance(screen, ChallengesScreen)
        await wait_for(pilot, lambda: len(screen.challenges) == 1)
        detail = plain(screen.query_one("#challenge-detail", Static).content, width=200)
        assert "“Joins” in #sql-basics, by Chen (" in detail
        assert "1. Correct: the rows asked for" in detail
        assert "Submission by Bo (" in detail

        await pilot.press("s")
        await wait_for(pilot, lambda: ANA.public_key in screen.challenges[0].cohort)

        await pilot.press("r")
        dialog = await fill(pilot, ReviewDialog, prompt_works="Clear joins")
        assert isinstance(dialog, ReviewDialog)
        dialog.query_one("#verdict", Select).value = "approve"
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = plain(dialog.query_one("#dialog-error", Static).content)
        assert "tick them all" in error
        for index in range(2):
            dialog.query_one(f"#meets-{index}", Checkbox).value = True
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.challenges[0].holders == (BO.public_key,))
        detail = plain(screen.query_one("#challenge-detail", Static).content, width=200)
        assert "What works: Clear joins" in detail
        assert "Holders (they can help): Bo (" in detail
        await pilot.press("r")
        await pilot.pause()
        assert not isinstance(app.screen, ReviewDialog)  # nothing left to review
    assert await reviews_by_ana(challenge_room) == ["approve"]


async def test_my_badges_are_in_my_profile(home: Home) -> None:
    from tests.tui.circles.helpers import circle_events

    challenge = event(
        CHEN,
        kinds.CHALLENGE,
        {"title": "Joins", "question": "q", "tasks": ["t"], "criteria": CRITERIA,
         "badge": {"name": "Join explorer"}, "reviews": 1},
        at=NOW - 20 * MINUTE,
    )  # fmt: skip
    work = event(ANA, kinds.SUBMISSION, {"text": "mine"}, at=NOW - 10 * MINUTE,
                 challenge=challenge.id)  # fmt: skip
    approval = event(BO, kinds.REVIEW, {"verdict": "approve"}, at=NOW - 5 * MINUTE,
                     submission=work.id)  # fmt: skip
    install_key(home, ANA)
    await store(home, [*circle_events(), challenge, work, approval])
    async with running(home, size=(120, 40)) as (app, pilot):
        await main_screen(app, pilot)
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, ProfileScreen))
        box = app.screen.query_one("#profile-badges", Static)
        await wait_for(pilot, lambda: "Join explorer" in plain(box.content, width=200))
        shown = plain(box.content, width=200)
        assert "Your badges (1):" in shown
        assert f"peernode badge export {work.id.hex()[:12]}" in shown


async def test_new_work_that_waits_for_my_review_is_announced(challenge_room: Home) -> None:
    async with running(challenge_room, size=(120, 40)) as (app, pilot):
        await main_screen(app, pilot)
        challenge = (await app.node.challenges.in_circle(CIRCLE))[0]
        from_chen = event(CHEN, kinds.SUBMISSION, {"text": "mine"}, at=NOW, challenge=challenge.id)
        mine = event(ANA, kinds.SUBMISSION, {"text": "my own"}, at=NOW, challenge=challenge.id)
        await app.node.ingest([from_chen.raw, mine.raw])  # as from a peer
        await wait_for(pilot, lambda: said(app, "Review wanted"))
        (notice,) = [n for n in app._notifications if n.title == "Review wanted"]
        assert str(notice.message) == (
            "Work for “Joins” waits for your review in #sql-basics: press l there."
        )


async def test_submit_work_with_a_path_and_a_file_the_circle_shares(
    challenge_room: Home, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes on joins\n")
    joins = tmp_path / "my joins.sql"
    joins.write_text("SELECT 1;\n")
    async with Node(challenge_room, NodeConfig(watch=False)) as node:
        shared = await node.files.share(notes, CIRCLE)
    async with running(challenge_room, size=(120, 40)) as (app, pilot):
        screen = await open_circle_screen(app, pilot, "l")
        assert isinstance(screen, ChallengesScreen)
        await wait_for(pilot, lambda: len(screen.challenges) == 1)
        await pilot.press("w")
        await fill(pilot, SubmitDialog, files="nowhere.sql")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: said(app, "Not shared"))
        (refused,) = [n for n in app._notifications if n.title == "Not shared"]
        assert "no file 'nowhere.sql' on this laptop" in str(refused.message)

        await pilot.press("w")
        dialog = await fill(pilot, SubmitDialog, files=f"{joins}, {'ab' * 32}")
        picker = dialog.query_one("#shared", SelectionList)
        choice = plain(picker.get_option_at_index(0).prompt)
        assert "notes.md (17 bytes, on this laptop, id" in choice
        picker.select(shared.id.hex())
        area = dialog.query_one("#work", TextArea)
        area.focus()
        area.insert("# My joins")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(screen.challenges[0].submissions) == 2)
        mine = screen.challenges[0].submissions[-1]
        (added,) = [f for f in await app.node.files.list(CIRCLE) if f.name == "my joins.sql"]
        assert (mine.author, mine.text) == (ANA.public_key, "# My joins")
        assert mine.files == (shared.id, added.id, bytes.fromhex("ab" * 32))
        await wait_for(pilot, lambda: added.id in screen.files_shown)
        detail = plain(screen.query_one("#challenge-detail", Static).content, width=200)
        assert "  File: notes.md (17 bytes, on this laptop, id" in detail
        assert "  File: my joins.sql (10 bytes, on this laptop, id" in detail
        assert "  File abababababab: not known here yet" in detail


async def test_ask_the_suggested_buddy(challenge_room: Home) -> None:
    async with running(challenge_room, size=(120, 40)) as (app, pilot):
        screen = await open_circle_screen(app, pilot, "l")
        assert isinstance(screen, ChallengesScreen)
        await wait_for(pilot, lambda: len(screen.challenges) == 1)
        challenge = screen.challenges[0]
        started = event(BO, kinds.START, {}, at=NOW, challenge=challenge.id)
        await app.node.ingest([started.raw])
        await pilot.press("s")
        await wait_for(pilot, lambda: len(screen.challenges[0].cohort) == 2)
        assert "Buddies? Bo (" in plain(screen.query_one("#challenge-detail", Static).content)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BuddyDialog))
        assert app.screen.query_one("#buddy", Select).value == BO.public_key.hex()
        await pilot.press("ctrl+s")
        asked = event(BO, kinds.BUDDY, {"with": ANA.public_key}, at=NOW, challenge=challenge.id)
        await app.node.ingest([asked.raw])
        await wait_for(pilot, lambda: screen.challenges[0].buddies != ())
        (pair,) = screen.challenges[0].buddies
        assert set(pair) == {ANA.public_key, BO.public_key}
