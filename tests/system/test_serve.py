"""End to end: `peernode serve` processes on loopback find, link and converge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.nodes import ServeProcess, peernode
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow


def linked_keys(node: ServeProcess) -> set[str]:
    status = node.status() or {}
    return {peer["key"] for peer in status.get("peers", []) if peer["linked"]}


def has_text(node: ServeProcess, text: str) -> bool:
    return text in node.feed_texts()


def test_a_note_posted_at_one_node_reaches_the_others(tmp_path: Path) -> None:
    a = ServeProcess(tmp_path / "a", name="Ada")
    b = ServeProcess(tmp_path / "b", name="Ben", peers=[a.address])
    c = ServeProcess(tmp_path / "c", name="Cleo", peers=[b.address])
    try:
        wait_for(lambda: len(linked_keys(b)) == 2, "b to link with a and c", 30)
        # Posted by a separate CLI process while the node runs: the node picks it up.
        peernode(a.home, "post", "the joins exercise: use LEFT JOIN", "--channel", "sql")
        for node in (b, c):
            wait_for(
                lambda n=node: has_text(n, "the joins exercise: use LEFT JOIN"),
                f"the note at {node.name}",
                30,
            )
        status = c.status() or {}
        assert status["events"] >= 4  # three profiles and the note
    finally:
        for node in (a, b, c):
            node.stop()


def test_a_node_started_late_catches_up(tmp_path: Path) -> None:
    a = ServeProcess(tmp_path / "a", name="Ada")
    try:
        peernode(a.home, "post", "an early note")
        lines = [json.dumps({"circle": "lobby", "text": f"imported {i}"}) for i in range(300)]
        (tmp_path / "notes.jsonl").write_text("\n".join(lines))
        peernode(a.home, "import", str(tmp_path / "notes.jsonl"))
        late = ServeProcess(tmp_path / "late", name="Late", peers=[a.address])
        try:
            wait_for(lambda: "imported 299" in late.feed_texts(), "the late node to catch up", 60)
            texts = late.feed_texts()
            assert len([t for t in texts if t.startswith("imported")]) == 300
            assert "an early note" in texts
            wait_for(
                lambda: (
                    all(p["in_sync"] for p in (late.status() or {}).get("peers", []) if p["linked"])
                    and linked_keys(late)
                ),
                "in_sync",
                30,
            )
        finally:
            late.stop()
    finally:
        a.stop()


def test_serve_shuts_down_cleanly_on_sigterm(tmp_path: Path) -> None:
    a = ServeProcess(tmp_path / "a", name="Ada")
    assert a.stop() == 0
    assert "stopped" in a.read_log()
    assert not (a.home / "node.json").exists()
