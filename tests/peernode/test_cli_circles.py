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
    short = meeting_id[:12]
    assert ok(rsvp).startswith(f"You answered yes for the meeting {short} of #sql (id ")
    assert ok(attend).startswith(f"You signed that you were at the meeting {short} of #sql (id ")
    assert ok(checkin).startswith(f"You checked in at the meeting {short} of #sql (this counts")
    assert ok(plusdelta).startswith(f"Your plus/delta for the meeting {short} of #sql is saved")
    question_id = one(asked)["id"]
    resource_id = one(shared)["id"]
    answered, answered_json = run(
        ["answer", question_id[:8], "Use LEFT when the right side may be missing"],
        ["answer", question_id[:8], "LEFT, mostly", "--json"],
    )
    answer_id = one(answered_json)["id"]
    said = ok(answered)
    assert said.startswith(f"Answered the question {question_id[:12]} in #sql (id ")
    assert said.endswith(").\n")
    assert len(said.splitlines()) == 1
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
    assert md.stderr == f"Wrote the report of #sql to {md_path}.\n"
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
        ("A circle or channel name is lowercase letters",),
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


def test_report_output_never_replaces_a_file_without_force(
    ana: Path, tmp_path: Path, invoke_cli: RunCli
) -> None:
    target = tmp_path / "report.md"
    target.write_text("the facilitator's notes", encoding="utf-8")
    created, refused, forced = run_all(
        invoke_cli,
        ana,
        ["circle", "create", "sql", "--title", "SQL"],
        ["report", "sql", "--output", str(target)],
        ["report", "sql", "--output", str(target), "--force"],
    )
    ok(created)

    line = fails(refused, str(target), "--force")
    assert line == (
        f"peernode: {target} exists already: choose another file, or add --force to replace it."
    )
    assert refused.stdout == ""
    ok(forced)
    assert target.read_text(encoding="utf-8").startswith("# Circle report: SQL")


def test_circle_show_counts_every_resource_and_open_question(ana: Path, invoke_cli: RunCli) -> None:
    results = run_all(
        invoke_cli,
        ana,
        ["circle", "create", "sql", "--title", "SQL", "--resource", "https://e.org/course"],
        ["resource", "add", "sql", "https://e.org/sheet", "--title", "Sheet"],
        ["ask", "sql", "Open one?"],
        ["ask", "sql", "Answered one?", "--json"],
        ["circle", "show", "sql"],
    )
    for result in results[:-1]:
        ok(result)
    answered = one(results[3])["id"]
    (bo,) = run_all(invoke_cli, ana, ["answer", answered[:8], "yes"])
    ok(bo)
    (shown,) = run_all(invoke_cli, ana, ["circle", "show", "sql"])
    text = ok(shown)

    assert "resources (2):\n  https://e.org/course\n" in text
    assert "  Sheet  https://e.org/sheet" in text
    assert "shared resources" not in text
    assert "Open questions (2):" in text  # answered by the asker only: still open
    assert "Open one?" in text
    assert "Answered one?" in text


def test_keys_are_shown_as_fingerprints(ana: Path, invoke_cli: RunCli) -> None:
    key = json.loads(ok(invoke_cli("--home", str(ana), "id", "--json")))
    shown_id, profile, status = run_all(invoke_cli, ana, ["id"], ["profile"], ["status"])
    everything = "".join(ok(result) for result in (shown_id, profile, status))

    assert key["key"] not in everything
    assert key["key"][:16] not in everything
    assert ok(shown_id) == f"Ana  {key['fingerprint']}\n"
    assert f"fingerprint: {key['fingerprint']}" in ok(profile)
    assert ok(status).startswith(f"Ana ({key['fingerprint']})")
    # `helpers` never lists the one asking, so its lines are checked in test_text.py.


def test_validation_errors_read_as_sentences(ana: Path, invoke_cli: RunCli) -> None:
    created, asked = run_all(
        invoke_cli,
        ana,
        ["circle", "create", "sql", "--title", "SQL", "--json"],
        ["ask", "sql", "Why?", "--json"],
    )
    ok(created)
    question = one(asked)["id"]
    scheduled = run_all(
        invoke_cli, ana, ["meeting", "schedule", "sql", "--at", "2020-01-07T18:00", "--json"]
    )
    meeting = one(scheduled[0])["id"]
    results = run_all(
        invoke_cli,
        ana,
        ["meeting", "plusdelta", meeting[:8]],
        ["meeting", "checkin", meeting[:8]],
        ["answer", question[:8], "   "],
        ["edit", question[:8], "--set", "title="],
        ["edit", question[:8], "--set", "tags=[5]"],
        ["resource", "add", "sql", "not a link", "--title", "x"],
        ["ask", "sql", "x" * 300],
    )
    expected = [
        "Write at least one thing: what went well (plus) or what to change (delta).",
        "Write at least one thing: how you feel or what you work on or where you need help.",
        "The answer is empty: write something.",
        "The question's title is empty: write something.",
        "Tag 1 must be a few words of text: write some or leave it out.",
        "The resource's link must be a full address with no spaces, like https://example.org.",
        "The question's title is too long (300 bytes, at most 256): shorten it.",
    ]
    for result, sentence in zip(results, expected, strict=True):
        assert fails(result) == f"peernode: {sentence}"
