"""The feed shows edits and deletes honestly: only an author's own count."""

from __future__ import annotations

from pathlib import Path

from peernode.home import Home
from peernode.node import Node, NodeConfig
from protocol import kinds
from protocol.event import create_event
from protocol.identity import SigningKey


async def test_edits_and_deletes_apply_to_the_feed_and_are_not_listed(tmp_path: Path) -> None:
    async with Node(Home(tmp_path / "ada"), NodeConfig(watch=False)) as node:
        await node.create_identity("Ada")
        kept = await node.post("first draft", channel="sql")
        gone = await node.post("posted by mistake", channel="sql")
        await node.edit(kept.id, {"text": "final version"})
        await node.delete(gone.id)

        feed = await node.feed("sql")

    assert [entry.event.id for entry in feed] == [kept.id, gone.id]
    edited, deleted = feed
    assert edited.edited
    assert edited.body["text"] == "final version"
    assert deleted.deleted
    assert deleted.body == {}
    assert "posted by mistake" not in str(deleted.to_json())
    assert edited.to_json()["body"]["text"] == "final version"


async def test_an_edit_or_delete_by_someone_else_is_ignored(tmp_path: Path) -> None:
    mallory = SigningKey.from_seed(bytes([7]) * 32)
    async with Node(Home(tmp_path / "ada"), NodeConfig(watch=False)) as node:
        await node.create_identity("Ada")
        note = await node.post("my note", channel="sql")
        forged = [
            create_event(
                mallory,
                kind=kinds.EDIT,
                circle="sql",
                body={"text": "rewritten by someone else"},
                refs={"target": note.id},
                created_at=note.created_at + 1,
            ),
            create_event(
                mallory,
                kind=kinds.DELETE,
                circle="sql",
                body={},
                refs={"target": note.id},
                created_at=note.created_at + 2,
            ),
        ]
        result = await node.ingest([event.raw for event in forged])
        assert len(result.new) == 2  # valid events, stored and forwarded...

        (entry,) = await node.feed("sql")

    assert not entry.edited
    assert not entry.deleted
    assert entry.body["text"] == "my note"
