"""The circle commands, run in-process on temporary homes through the CLI's error funnel."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunCli

Result = subprocess.CompletedProcess[str]


def run_all(invoke_cli: RunCli, home: Path, *commands: list[str]) -> list[Result]:
    """Run several `peernode --home HOME ...` commands one after the other; results in order."""
    results = []
    for command in commands:
        result = invoke_cli("--home", str(home), *command)
        results.append(Result(command, result.returncode, result.stdout, result.stderr))
    return results


def ok(result: Result) -> str:
    assert result.returncode == 0, (result.args, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stdout


def lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in ok(result).splitlines()]


def one(result: Result) -> dict[str, Any]:
    (obj,) = lines(result)
    return obj


def fails(result: Result, *words: str) -> str:
    """Non-zero exit, exactly one line on stderr, no traceback."""
    assert result.returncode != 0, (result.args, result.stdout)
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("peernode: ")
    for word in words:
        assert word in line, line
    return line


@pytest.fixture
def ana(tmp_path: Path, invoke_cli: RunCli) -> Path:
    home = tmp_path / "ana"
    ok(invoke_cli("--home", str(home), "init", "--name", "Ana", "--can-help", "SQL joins"))
    return home


def test_a_circle_from_creation_to_report(ana: Path, tmp_path: Path, invoke_cli: RunCli) -> None:
    def run(*commands: list[str], home: Path = ana) -> list[Result]:
        return run_all(invoke_cli, home, *commands)

    (created,) = run(
        ["circle", "create", "sql", "--title", "SQL <basics>", "--topic", "databases",
         "--cadence", "weekly", "--duration", "120", "--weeks", "6",
         "--resource", "https://e.org/course", "--language", "en", "--json"],
    )  # fmt: skip
    circle_event = one(created)
    assert (circle_event["kind"], circle_event["circle"]) == ("peernode/circle@1", "sql")
    (scheduled,) = run(
        ["meeting", "schedule", "sql", "--at", "2020-01-07T18:00", "--place", "Library",
         "--activity", "Join puzzles", "--activity-minutes", "20", "--facilitator", "me",
         "--json"],
    )  # fmt: skip
    meeting = one(scheduled)
    meeting_id = meeting["id"]
    assert meeting["body"]["agenda"] == {"activity": {"title": "Join puzzles", "minutes": 20}}

    rsvp, attend, checkin, plusdelta, asked, shared = run(
        ["meeting", "rsvp", meeting_id[:8], "yes"],
        ["meeting", "attend", meeting_id[:10]],
        ["meeting", "checkin", meeting_id, "--feeling", "ok", "--need-help", "<script>joins"],
        ["meeting", "plusdelta", meeting_id, "--plus", "puzzles", "--delta", "start on time"],
        ["ask", "sql", "LEFT or RIGHT?", "--text", "when?", "--tag", "joins", "--json"],
        ["resource", "add", "sql", "https://e.org/x.pdf", "--title", "Sheet", "--tag", "joins",
         "--licence", "CC0", "--json"],
    )  # fmt: skip
    for result in (rsvp, attend, checkin, plusdelta):
        assert len(ok(result).strip()) == 64
    question_id = one(asked)["id"]
    resource_id = one(shared)["id"]
    (answered,) = run(["answer", question_id[:8], "LEFT, mostly"])
    answer_id = ok(answered).strip()
    resolved, edited, deleted, updated = run(
        ["resolve", question_id, "--answer", answer_id[:12]],
        ["edit", question_id, "--set", "title=LEFT or RIGHT join?", "--set", 'tags=["sql"]'],
        ["delete", resource_id[:8], "--reason", "dup"],
        ["circle", "update", "sql", "--cadence", "biweekly"],
    )
    ok(resolved)
    ok(edited)
    ok(deleted)
    ok(updated)

    md_path, html_path = tmp_path / "report.md", tmp_path / "report.html"
    listed, shown, shown_text, meetings, questions, resources, helpers, md, html = run(
        ["circle", "list", "--json"],
        ["circle", "show", "sql", "--json"],
        ["circle", "show", "sql"],
        ["meeting", "list", "sql", "--json"],
        ["questions", "sql", "--json"],
        ["resource", "list", "sql", "--json"],
        ["helpers", "sql", "joins", "--json"],
        ["report", "sql", "--format", "md", "--output", str(md_path)],
        ["report", "sql", "--format", "html", "--output", str(html_path)],
    )
    summary = one(listed)
    assert summary | {"updated_at": 0} == {
        "circle": "sql",
        "title": "SQL <basics>",
        "topic": "databases",
        "members": 1,
        "member": True,
        "updated_at": 0,
    }
    state = one(shown)
    ana_key = state["creator"]
    assert state["rhythm"] == {"cadence": "biweekly", "duration_minutes": 120, "weeks": 6}
    assert [version["rhythm"]["cadence"] for version in state["history"]] == ["weekly", "biweekly"]
    assert state["resources"] == [{"url": "https://e.org/course", "title": "", "licence": ""}]
    assert state["language"] == "en"
    assert state["shared_resources"] == []
    assert state["deleted"] == [resource_id]
    assert "SQL <basics>  [sql]" in ok(shown_text)
    assert "rhythm:   biweekly, 2 h, 6 weeks" in ok(shown_text)
    (listed_meeting,) = lines(meetings)
    assert listed_meeting["id"] == meeting_id
    assert listed_meeting["next"] is False
    assert listed_meeting["place"] == "Library"
    assert listed_meeting["rsvps"] == {ana_key: "yes"}
    assert listed_meeting["attendees"] == [ana_key]
    assert listed_meeting["facilitator"] == ana_key
    assert listed_meeting["checkins"][0]["need_help"] == "<script>joins"
    assert listed_meeting["plusdeltas"][0]["delta"] == "start on time"
    (question,) = lines(questions)
    assert question["title"] == "LEFT or RIGHT join?"
    assert question["tags"] == ["sql"]
    assert question["status"] == "resolved"
    assert question["helped"] == answer_id
    assert lines(resources) == []
    assert lines(helpers) == []  # Ana's profile says 'SQL joins', but she is the one asking
    assert "wrote" in md.stderr
    report_md = md_path.read_text(encoding="utf-8")
    assert "| Meetings held | 1 |" in report_md
    assert "| Questions resolved | 1 (100%) |" in report_md
    assert "&lt;script&gt;joins — Ana" in report_md
    ok(html)
    page = html_path.read_text(encoding="utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;joins" in page
    assert '<tr><th>Meetings held</th><td class="num">1</td></tr>' in page

    # a second learner with a copy of the circle (as sync would give them)
    ben = tmp_path / "ben"
    ben.mkdir()
    shutil.copy(ana / "peernode.db", ben / "peernode.db")
    # A home with events but no key looks like a lost key: a new identity is asked for.
    ok(invoke_cli("--home", str(ben), "init", "--new", "--name", "Ben", "--can-help", "joins"))
    joined, not_asker, not_author = run(
        ["circle", "join", "sql", "--message", "hi"],
        ["resolve", question_id],
        ["delete", question_id],
        home=ben,
    )
    ok(joined)
    fails(not_asker, "only the person who asked")
    fails(not_author, "your own events")
    left, helpers_ben = run(
        ["circle", "leave", "sql", "--message", "bye"], ["helpers", "sql", "joins"], home=ben
    )
    ok(left)
    assert [line.split()[0] for line in ok(helpers_ben).splitlines()] == ["Ana"]


def test_questions_by_the_start_of_a_tag(ana: Path, invoke_cli: RunCli) -> None:
    created, grouped, joined, by_prefix, by_word, everything, none = run_all(
        invoke_cli,
        ana,
        ["circle", "create", "sql", "--title", "SQL"],
        ["ask", "sql", "Why are rows missing?", "--tag", "group by", "--tag", "sql"],
        ["ask", "sql", "LEFT or RIGHT?", "--tag", "joins"],
        ["questions", "sql", "--tag", "GROUP"],
        ["questions", "sql", "--tag", "by", "--json"],
        ["questions", "sql"],
        ["questions", "sql", "--tag", "roup"],
    )
    for result in (created, grouped, joined):
        ok(result)
    (line,) = ok(by_prefix).splitlines()
    assert "[open]  Why are rows missing?  (Ana (" in line
    assert line.endswith('0 answers)  #"group by"  #sql')
    assert [question["title"] for question in lines(by_word)] == ["Why are rows missing?"]
    assert len(ok(everything).splitlines()) == 2
    assert ok(none) == ""


def test_bad_inputs_are_one_line_errors(ana: Path, invoke_cli: RunCli) -> None:
    results = run_all(
        invoke_cli,
        ana,
        ["circle", "create", "Bad Slug", "--title", "x"],
        ["circle", "show", "nope"],
        ["circle", "join", "nope"],
        ["meeting", "schedule", "nope", "--at", "2026-12-01T18:00"],
        ["meeting", "schedule", "nope", "--at", "next tuesday"],
        ["meeting", "attend", "xyz"],
        ["meeting", "attend", "0" * 64],
        ["meeting", "rsvp", "0" * 8, "perhaps"],
        ["answer", "12345678", "text"],
        ["report", "nope"],
        ["report", "nope", "--format", "pdf"],
        ["edit", "0" * 64, "--set", "novalue"],
    )
    expected = [
        ("circle: must be lowercase",),
        ("no circle nope",),
        ("no circle nope",),
        ("no circle nope",),
        ("--at", "2026-12-01T18:00"),
        ("not an event id",),
        ("is not here",),
        ("perhaps",),
        ("is not here",),
        ("no circle nope",),
        ("pdf",),
        ("FIELD=VALUE",),
    ]
    for result, words in zip(results, expected, strict=True):
        fails(result, *words)


def test_a_check_in_from_the_command_line_counts_as_attending(
    ana: Path, tmp_path: Path, invoke_cli: RunCli
) -> None:
    """`meeting checkin` alone: the list says "1 attended", the report counts Ana."""
    (created, scheduled) = run_all(
        invoke_cli,
        ana,
        ["circle", "create", "sql", "--title", "SQL", "--json"],
        ["meeting", "schedule", "sql", "--at", "2020-01-07T18:00", "--json"],
    )
    ok(created)
    meeting_id = one(scheduled)["id"]
    md_path = tmp_path / "report.md"
    checkin, listed, listed_json, report = run_all(
        invoke_cli,
        ana,
        ["meeting", "checkin", meeting_id[:8], "--feeling", "keen"],
        ["meeting", "list", "sql"],
        ["meeting", "list", "sql", "--json"],
        ["report", "sql", "--format", "md", "--output", str(md_path)],
    )
    ok(checkin)
    assert ok(listed).rstrip().endswith("0 coming  1 attended")
    listed_meeting = one(listed_json)
    assert listed_meeting["attendees"] == [listed_meeting["author"]]
    ok(report)
    text = md_path.read_text()
    assert "| Meetings held | 1 |" in text
    assert "| People who attended | 1 |" in text
    (row,) = [line for line in text.splitlines() if line.startswith("| 1 |")]
    assert row.endswith("| 1 | 100% | 1 | 0 | Ana |")  # attendance, ..., the Who column
