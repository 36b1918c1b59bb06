"""The Q&A view: open / answered / resolved, the tag filter, who can help, and asking,
answering and resolving from the dialogs; details and answers are Markdown."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.widgets import Select, Static, TextArea

from peernode.circles.model import Helper
from peernode.home import Home
from protocol import kinds
from protocol.event import create_event
from tests.support.rendering import plain
from tests.tui.circles.helpers import CIRCLE, event, fill, open_circle_screen, steady_on
from tests.tui.helpers import ANA, BO, CHEN, MINUTE, NOW, running, store, type_text, wait_for
from tests.tui.test_snapshots import HostedApp
from tui.circles.ask import AnswerDialog, AskDialog, ResolveDialog, TopicDialog
from tui.circles.qa_view import LearnerMarkdown
from tui.circles.questions import QuestionsScreen, merged

CODE_QUESTION = "Why does GROUP BY drop my rows?"
CODE_DETAILS = (
    "I tried:\n\n```sql\nSELECT name, count(*)\n    FROM people\n GROUP BY city;\n```\n"
    'and got `column "name" must appear in the GROUP BY clause`.'
)


def detail_shown(screen: QuestionsScreen) -> str:
    text = plain(screen.query_one("#question-detail", Static).content)
    return "\n".join(line.rstrip() for line in text.splitlines())


def helpers_shown(screen: QuestionsScreen) -> str:
    return plain(screen.query_one("#helpers", Static).content, width=200)


async def open_questions(app: Any, pilot: Any) -> QuestionsScreen:
    screen = await open_circle_screen(app, pilot, "q")
    assert isinstance(screen, QuestionsScreen)
    return screen


def titles(screen: QuestionsScreen) -> list[str]:
    return [question.title for question in screen.shown]


def status_of(screen: QuestionsScreen, title: str) -> str | None:
    return next((q.status for q in screen.shown if q.title == title), None)


def test_markdown_shows_what_was_typed() -> None:
    """New lines stay, HTML-looking code stays text, links show their address."""
    typed = "Use `vector`:\n#include <vector>\n<b>not bold</b> [docs](https://e.org)"
    shown = [line.rstrip() for line in plain(LearnerMarkdown(typed)).splitlines()]
    assert shown == ["Use vector:", "#include <vector>", "<b>not bold</b> docs (https://e.org)"]


async def test_lists_open_answered_and_resolved(circle_room: Home) -> None:
    async with running(circle_room, size=(80, 24)) as (app, pilot):
        screen = await open_questions(app, pilot)
        assert titles(screen) == [
            "LEFT or RIGHT join?",
            "What is an index?",
            "How to install sqlite?",
        ]
        prompts = [plain(screen.question_list.get_option_at_index(i).prompt) for i in range(3)]
        assert [p.split()[0] for p in prompts] == ["?", "↩", "✓"]
        assert [p.splitlines()[1].split(" · ")[:2] for p in prompts] == [
            ["  open", "#joins"],
            ["  answered", "#indexes"],
            ["  resolved", "#setup"],
        ]
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
        detail = detail_shown(screen)
        assert "✓ resolved" in detail
        assert "Bo · ni4a-hvpq  ✓ helped" in detail


async def topic_for_helpers(pilot: Any, screen: QuestionsScreen, topic: str) -> None:
    """Press h, type `topic` instead of what the dialog proposes, and wait for it."""
    await pilot.press("h")
    dialog = await fill(pilot, TopicDialog)
    dialog.query_one("#topic").value = ""  # type: ignore[attr-defined]
    await type_text(pilot, topic)
    await pilot.press("enter")
    await wait_for(pilot, lambda: screen.helper_topics == (topic,))


async def test_tag_filter_and_who_can_help(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        screen = await open_questions(app, pilot)
        # the selected question is tagged #joins: Chen's profile says "SQL, joins"
        await wait_for(pilot, lambda: "Chen" in helpers_shown(screen))
        assert "can help: SQL, joins" in helpers_shown(screen)
        await pilot.press("t")
        await type_text(pilot, "INDEX")  # the start of the tag 'indexes', in any case
        assert titles(screen) == ["What is an index?"]
        # Chen asked it; I answered it, so I am offered to her
        await wait_for(pilot, lambda: "Ana (you) — answered 1" in helpers_shown(screen))
        await pilot.press("escape")  # back to the list, not out of the screen
        assert app.screen is screen
        # when I ask who can help, I am not offered to myself
        await topic_for_helpers(pilot, screen, "index")
        await wait_for(
            pilot, lambda: "Nobody says they can help with 'index'" in helpers_shown(screen)
        )
        await topic_for_helpers(pilot, screen, "sql")
        await wait_for(pilot, lambda: "Chen — can help: SQL, joins" in helpers_shown(screen))
        assert titles(screen) == ["What is an index?"]  # 'who can help' does not filter


async def test_ask_answer_and_resolve(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        screen = await open_questions(app, pilot)
        # answer Bo's open question, on two lines: Enter starts a new line, Ctrl+S sends
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, AnswerDialog))
        await type_text(pilot, "LEFT keeps")
        await pilot.press("enter")
        await type_text(pilot, "all rows")
        assert isinstance(app.screen, AnswerDialog)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: status_of(screen, "LEFT or RIGHT join?") == "answered")
        assert screen.selected is not None
        assert [a.text for a in screen.selected.answers] == ["LEFT keeps\nall rows"]
        # under its author, indented, and the new line typed stays a new line
        await wait_for(pilot, lambda: "\n  LEFT keeps\n  all rows" in detail_shown(screen))
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
            body={"text": "A saved\nquery."},
            refs={"question": asked.id},
            created_at=NOW,
        )
        await app.node.ingest([answer.raw])
        await wait_for(pilot, lambda: status_of(screen, "What is a view?") == "answered")
        screen.question_list.highlighted = titles(screen).index("What is a view?")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ResolveDialog))
        assert app.screen.query_one("#helped", Select).value == answer.id.hex()
        assert app.screen.answers[-1] == (answer.id, "Chen: A saved query.")  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: status_of(screen, "What is a view?") == "resolved")
        state = await app.node.circles.state(CIRCLE)
        resolved = state.question(asked.id)
        assert resolved is not None
        assert resolved.helped == answer.id


async def write(pilot: Any, selector: str, text: str) -> None:
    """Put `text` into the dialog's text area at `selector`, as if pasted."""
    area = pilot.app.screen.query_one(selector, TextArea)
    area.focus()
    area.insert(text)
    await pilot.pause()


def form_error(app: Any) -> str:
    return str(app.screen.query_one("#dialog-error", Static).content)


async def test_ask_with_a_code_block_and_find_it_by_the_start_of_its_tag(
    circle_room: Home,
) -> None:
    async with running(circle_room) as (app, pilot):
        screen = await open_questions(app, pilot)
        await pilot.press("a")
        await fill(pilot, AskDialog, tags="a" * 40)
        await pilot.press("ctrl+s")  # nothing written yet: a sentence says what to do
        assert form_error(app) == "⚠ Write your question first; the details are optional."
        await fill(pilot, AskDialog, title=CODE_QUESTION)
        await write(pilot, "#text", CODE_DETAILS)
        await pilot.press("ctrl+s")
        assert form_error(app) == (
            f"⚠ The tag #{'a' * 40} is too long: a tag has at most 32 characters."
        )
        tags = app.screen.query_one("#tags")
        tags.value = ""  # type: ignore[attr-defined]
        await fill(pilot, AskDialog, tags="#group by, sql")
        await pilot.press("escape")  # written text is not thrown away on one Esc
        assert isinstance(app.screen, AskDialog)
        assert "Press Esc again" in form_error(app)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: CODE_QUESTION in titles(screen))
        state = await app.node.circles.state(CIRCLE)
        asked = next(q for q in state.questions if q.title == CODE_QUESTION)
        assert (asked.text, asked.tags) == (CODE_DETAILS, ("group by", "sql"))

        screen.question_list.highlighted = titles(screen).index(CODE_QUESTION)
        await pilot.pause()
        detail = detail_shown(screen)
        assert '#"group by" #sql' in detail
        assert "`" not in detail  # Markdown is rendered: no fences, no backticks
        lines = detail.splitlines()
        select = next(line for line in lines if "SELECT name" in line)
        from_ = next(line for line in lines if "FROM people" in line)
        assert from_.index("FROM") - select.index("SELECT") == 4  # code keeps its indent

        await pilot.press("t")
        await type_text(pilot, "group")
        assert titles(screen) == [CODE_QUESTION]
        assert "Questions tagged 'group': 1" in str(screen.question_list.border_title)
        await pilot.press("escape")
        # an answer started and abandoned: the second Esc throws it away
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, AnswerDialog))
        await type_text(pilot, "maybe")
        await pilot.press("escape")
        assert isinstance(app.screen, AnswerDialog)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, AnswerDialog))
        await pilot.press("ctrl+s")
        assert form_error(app) == "⚠ Write your answer first."
        await pilot.press("escape")  # nothing written: one Esc closes
        await wait_for(pilot, lambda: app.screen is screen)
        state = await app.node.circles.state(CIRCLE)
        assert state.question(asked.id).answers == ()  # type: ignore[union-attr]


def test_questions_snapshot(snap_compare: Any, circle_room: Home, utc: None) -> None:
    """Details and answers as Markdown: inline code, a code block, wrapped lines indented."""
    asked = event(
        BO,
        kinds.QUESTION,
        {"title": CODE_QUESTION, "text": CODE_DETAILS, "tags": ["group by", "sql"]},
        at=NOW - 5 * MINUTE,
    )
    answer = event(
        CHEN,
        kinds.ANSWER,
        {
            "text": "Every column you select must be **grouped** or aggregated: add `name`"
            " to the `GROUP BY`, or count per city:\n\n```sql\nSELECT city, count(*)\n"
            "  FROM people\n GROUP BY city;\n```"
        },
        at=NOW - 2 * MINUTE,
        question=asked.id,
    )
    asyncio.run(store(circle_room, [asked, answer]))

    async def run_before(pilot: Any) -> None:
        await steady_on(pilot, "q")
        await pilot.press("down")  # the newest answered question
        await pilot.pause()

    assert snap_compare(HostedApp(circle_room), terminal_size=(100, 32), run_before=run_before)


def test_a_helper_found_through_several_tags_keeps_every_reason() -> None:
    joins = Helper(BO.public_key, "Bo", "", False, 1, True, badges=("Join explorer",))
    indexes = Helper(BO.public_key, "Bo", "indexes", True, 3, True, badges=("Index keeper",))
    again = Helper(BO.public_key, "Bo", "", False, 0, True, badges=("Join explorer",))
    found = merged(merged(merged(None, joins), indexes), again)
    assert (found.profile_match, found.answers) == (True, 3)
    assert found.badges == ("Join explorer", "Index keeper")
