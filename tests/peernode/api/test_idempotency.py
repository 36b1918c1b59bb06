"""Idempotency keys kept in the home: a retry after a restart posts once; bounded, expiring."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from peernode.api.idempotency import KEYS_FILE, KeyBook
from peernode.api.limits import Remembered
from tests.peernode.api.conftest import StartNode

NOTE = {"kind": "peernode/note@1", "circle": "lobby", "body": {"text": "reminder"}}


async def test_a_retry_after_the_node_restarts_is_answered_not_posted_again(
    start_api_node: StartNode,
) -> None:
    async with start_api_node() as api_node:
        headers = {**api_node.token("bot", "post"), "Idempotency-Key": "meeting-42"}
        async with api_node.http.post(
            api_node.base + "/v1/events", headers=headers, json=NOTE
        ) as first:
            assert first.status == 201
            posted = await first.json()
    async with start_api_node() as api_node:  # the same home, a new process's worth of state
        async with api_node.http.post(
            api_node.base + "/v1/events", headers=headers, json=NOTE
        ) as again:
            assert again.status == 201
            assert again.headers["Idempotent-Replayed"] == "true"
            assert await again.json() == posted
        assert len(await api_node.node.feed("lobby")) == 1
        keys_file = api_node.node.home.path / KEYS_FILE
        assert keys_file.stat().st_mode & 0o077 == 0


def test_keys_are_bounded_per_token_and_expire(tmp_path: Path) -> None:
    now = [1_000_000]
    book = KeyBook(tmp_path / KEYS_FILE, per_token=3, keep_ms=60_000, clock=lambda: now[0])
    answer = Remembered(b"request", 201, b"{}")
    for number in range(5):
        now[0] += 1
        book.put("token-a", f"k{number}", answer)
    book.put("token-b", "k0", answer)
    assert [book.get("token-a", f"k{n}") is not None for n in range(5)] == [False, False] + [
        True
    ] * 3
    assert book.get("token-b", "k0") == answer
    now[0] += 60_000
    assert book.get("token-a", "k4") is None  # expired: a retry now posts again
    book.put("token-b", "k1", answer)  # a write clears what expired
    book.close()
    rows = sqlite3.connect(tmp_path / KEYS_FILE).execute("SELECT token, key FROM answers")
    assert rows.fetchall() == [("token-b", "k1")]


def test_a_damaged_keys_file_is_set_aside_and_started_anew(tmp_path: Path) -> None:
    path = tmp_path / KEYS_FILE
    path.write_bytes(b"not a database" * 100)
    book = KeyBook(path, per_token=3, keep_ms=60_000)
    assert book.get("token-a", "k0") is None
    book.put("token-a", "k0", Remembered(b"r", 201, b"{}"))
    assert book.get("token-a", "k0") is not None
    assert (tmp_path / (KEYS_FILE + ".damaged")).read_bytes().startswith(b"not a database")
    book.close()
