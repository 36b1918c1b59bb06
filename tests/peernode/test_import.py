"""Bulk import of JSON-lines files, through the CLI and the importer."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from peernode.errors import BadInput
from peernode.home import Home
from peernode.importer import import_notes, read_lines
from peernode.node import Node, NodeConfig
from peernode.storage.store import Store
from protocol import kinds
from protocol.event import load_verified
from tests.conftest import RunCli


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return path


def stored_notes(home: Path) -> list[dict[str, Any]]:
    store = Store(home / "peernode.db")
    try:
        events = [load_verified(row.raw) for row in store.feed(kinds=[kinds.NOTE])]
    finally:
        store.close()
    return [
        {"circle": event.circle, "text": event.body["text"], "created_at": event.created_at}
        for event in events
    ]


def circle_of(i: int) -> str:
    return ("algebra", "biology", "chemistry")[i % 3]


def test_ten_thousand_lines_keep_file_order(tmp_path: Path, run_cli: RunCli) -> None:
    rows = [{"circle": circle_of(i), "text": f"note {i}"} for i in range(10_000)]
    source = write_jsonl(tmp_path / "notes.jsonl", rows)
    home = tmp_path / "home"

    result = run_cli("import", str(source), "--home", str(home))

    assert result.returncode == 0, result.stderr
    assert "imported 10,000 notes into 3 circles in" in result.stdout
    notes = stored_notes(home)
    assert [(n["circle"], n["text"]) for n in notes] == [(r["circle"], r["text"]) for r in rows]
    times = [n["created_at"] for n in notes]
    assert times == sorted(set(times))  # strictly increasing: one millisecond each
    assert times[-1] <= time.time() * 1000


def test_a_bad_line_imports_nothing_and_is_named(tmp_path: Path, run_cli: RunCli) -> None:
    rows: list[Any] = [{"text": f"fine {i}"} for i in range(3000)]
    rows[2716] = '{"text": "unterminated'
    source = write_jsonl(tmp_path / "notes.jsonl", rows)
    home = tmp_path / "home"

    result = run_cli("import", str(source), "--home", str(home))

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Line 2717: this is not JSON (invalid control character at column 23)." in result.stderr
    assert "Nothing was imported" in result.stderr
    assert not (home / "peernode.db").exists() or stored_notes(home) == []


def test_reimporting_lines_with_times_is_idempotent(tmp_path: Path, run_cli: RunCli) -> None:
    rows = [
        {"circle": "lobby", "text": f"dated {i}", "created_at": 1_600_000_000_000 + i}
        for i in range(2000)
    ]
    source = write_jsonl(tmp_path / "dated.jsonl", rows)
    home = tmp_path / "home"

    first = run_cli("import", str(source), "--home", str(home))
    second = run_cli("--home", str(home), "import", str(source))

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "imported 2,000 notes" in first.stdout
    assert "imported 0 notes" in second.stdout
    assert "(2000 already present)" in second.stdout
    notes = stored_notes(home)
    assert len(notes) == 2000
    assert [n["created_at"] for n in notes] == [r["created_at"] for r in rows]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("not json", "not JSON (expecting value at column 1)"),
        ("[1, 2]", "not an object"),
        ('{"circle": "lobby"}', '"text" is missing or empty'),
        ('{"text": "   "}', '"text" is missing or empty'),
        ('{"text": 5}', '"text" is missing or empty'),
        ('{"text": "x", "circle": 5}', '"circle" must be a name'),
        ('{"text": "x", "circle": "Bad Circle"}', "A circle or channel name is lowercase"),
        ('{"text": "x", "created_at": "today"}', '"created_at" must be a whole number'),
        ('{"text": "x", "created_at": true}', '"created_at" must be a whole number'),
        (
            '{"text": "x", "created_at": -1}',
            "The time it was written must be a real date, after 1970.",
        ),
        (
            '{"text": "x", "created_at": 9007199254740992}',
            "The time it was written must be a real date, after 1970.",
        ),
        (
            '{"text": "' + "x" * 40_000 + '"}',
            "The note is too long (40000 bytes, at most 32768): shorten it.",
        ),
    ],
    ids=lambda value: value[:40] if isinstance(value, str) else None,
)
def test_bad_lines_are_reported_by_number(tmp_path: Path, line: str, words: str) -> None:
    source = write_jsonl(tmp_path / "notes.jsonl", ['{"text": "ok"}', "", line])

    with pytest.raises(BadInput) as info:
        read_lines(source)

    assert "Line 3: " in str(info.value)
    assert words in str(info.value)
    assert "Nothing was imported: fix 1 line and run it again." in str(info.value)
    assert "body" not in str(info.value)


def test_many_bad_lines_are_summarised(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "notes.jsonl", ["nope"] * 8 + ['{"text": "ok"}'])

    with pytest.raises(BadInput) as info:
        read_lines(source)

    message = str(info.value)
    assert "fix 8 lines" in message
    assert "Line 5:" in message
    assert "Line 6:" not in message
    assert message.endswith("And 3 more lines.")


def test_unreadable_files(tmp_path: Path) -> None:
    binary = tmp_path / "notes.jsonl"
    binary.write_bytes(b'{"text": "\xff\xfe"}\n')
    with pytest.raises(BadInput, match="not UTF-8"):
        read_lines(binary)
    with pytest.raises(BadInput, match="Cannot read"):
        read_lines(tmp_path)


async def test_importer_in_process(tmp_path: Path) -> None:
    source = write_jsonl(
        tmp_path / "notes.jsonl",
        [
            {"text": "first", "circle": "b"},
            {"text": "dated", "circle": "a", "created_at": 1_600_000_000_000},
            {"text": "default circle"},
        ],
    )
    notes = read_lines(source)
    progress: list[int] = []

    async with Node(Home(tmp_path / "home"), NodeConfig(watch=False)) as node:
        summary = await import_notes(node, notes, progress.append)
        again = await import_notes(node, notes[1:2])

        assert (summary.lines, summary.imported, summary.already_present) == (3, 3, 0)
        assert summary.circles == ("a", "b", "lobby")
        assert progress == [3]
        assert (again.imported, again.already_present) == (0, 1)
        feed = await node.feed()
        assert [entry.event.body["text"] for entry in feed] == ["dated", "first", "default circle"]
        assert {entry.event.author for entry in feed} == {node.public_key}
