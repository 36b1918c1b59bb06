"""The Q&A view: open / answered / resolved, the tag filter, who can help, and asking,
answering and resolving from the dialogs."""

from __future__ import annotations

from typing import Any

from textual.widgets import Select

from peernode.home import Home
from protocol import kinds
from protocol.event import create_event
from tests.tui.circles.helpers import CIRCLE, fill, open_circle_screen
from tests.tui.helpers import ANA, CHEN, NOW, running, type_text, wait_for
from tui.circles.ask import AnswerDialog, AskDialog, ResolveDialog, TopicDialog
from tui.circles.questions import QuestionsScreen


async def open_questions(app: Any, pilot: Any) -> QuestionsScreen:
    screen = await open_circle_screen(app, pilot, "q")
    assert isinstance(screen, QuestionsScreen)
    return screen


def titles(screen: QuestionsScreen) -> list[str]:
    return [question.title for question in screen.shown]


def status_of(screen: QuestionsScreen, title: str) -> str | None:
    return next((q.status for q in screen.shown if q.title == title), None)


async def test_lists_open_answered_and_resolved(circle_room: Home) -> None:
    async with running(circle_room, size=(80, 24)) as (app, pilot):
        screen = await open_questions(app, pilot)
        assert titles(screen) == [
            "LEFT or RIGHT join?",
            "What is an index?",
            "How to install sqlite?",
        ]
        prompts = [str(screen.question_list.get_option_at_index(i).prompt) for i in range(3)]
        assert [p.split(" · ")[0] for p in prompts] == ["? open", "↩ answered", "✓ resolved"]
        for status, expected in (
            ("open", "LEFT or RIGHT join?"),
            ("answered", "What is an index?"),
            ("resolved", "How to install sqlite?"),
        ):
            await pilot.press("f")
            assert screen.status == status
            assert titles(screen) == [expected]
            assert f"[{status} 1]" in str(screen.query_one("#qa-filter").content)  # type: ignore[attr-defined]
        await pilot.press("f")
        assert screen.status == "all"
        await pilot.press("home", "down", "down")  # the resolved one: what helped is marked
        detail = str(screen.query_one("#question-detail").content)  # type: ignore[attr-defined]
        assert "✓ resolved" in detail
        assert "Bo · ni4a-hvpq  ✓ helped" in detail


async def test_tag_filter_and_who_can_help(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        screen = await open_questions(app, pilot)
        # the selected question is tagged #joins: Chen's profile says "SQL, joins"
        await wait_for(pilot, lambda: "Chen" in screen.helpers_shown)
        assert "can help: SQL, joins" in screen.helpers_shown
        await pilot.press("t")
        await type_text(pilot, "indexes")
        assert titles(screen) == ["What is an index?"]
        await wait_for(pilot, lambda: "Ana (you) — answered 1" in screen.helpers_shown)
        await pilot.press("escape")  # back to the list, not out of the screen
        assert app.screen is screen
        await pilot.press("h")
        await fill(pilot, TopicDialog)
        dialog = app.screen
        dialog.query_one("#topic").value = ""  # type: ignore[attr-defined]
        await type_text(pilot, "sql")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.helper_topics == ("sql",))
        await wait_for(pilot, lambda: "Chen — can help: SQL, joins" in screen.helpers_shown)
        assert titles(screen) == ["What is an index?"]  # 'who can help' does not filter


async def test_ask_answer_and_resolve(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        screen = await open_questions(app, pilot)
        # answer Bo's open question
        await pilot.press("r")
        await fill(pilot, AnswerDialog, answer="LEFT keeps all rows")
        await pilot.press("enter")
        await wait_for(pilot, lambda: status_of(screen, "LEFT or RIGHT join?") == "answered")
        assert screen.selected is not None
        assert screen.selected.title == "LEFT or RIGHT join?"  # the selection stays put
        # only the asker may resolve it
        await pilot.press("x")
        await pilot.pause()
        assert not isinstance(app.screen, ResolveDialog)
        # ask my own question, get an answer from Chen, mark it as what helped
        await pilot.press("a")
        await fill(pilot, AskDialog, title="What is a view?", tags="views, sql")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "What is a view?" in titles(screen))
        state = await app.node.circles.state(CIRCLE)
        asked = next(q for q in state.questions if q.title == "What is a view?")
        assert asked.author == ANA.public_key
        assert asked.tags == ("views", "sql")
        answer = create_event(
            CHEN,
            kind=kinds.ANSWER,
            circle=CIRCLE,
            body={"text": "A saved query."},
            refs={"question": asked.id},
            created_at=NOW,
        )
        await app.node.ingest([answer.raw])
        await wait_for(pilot, lambda: status_of(screen, "What is a view?") == "answered")
        screen.question_list.highlighted = titles(screen).index("What is a view?")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ResolveDialog))
        assert app.screen.query_one("#helped", Select).value == answer.id.hex()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: status_of(screen, "What is a view?") == "resolved")
        state = await app.node.circles.state(CIRCLE)
        resolved = state.question(asked.id)
        assert resolved is not None
        assert resolved.helped == answer.id
