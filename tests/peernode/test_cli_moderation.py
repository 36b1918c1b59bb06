"""Mute, block and hide from the command line, and what they do to the feed and the circles."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

from peernode.home import Home
from peernode.node import Node, NodeConfig
from protocol import kinds
from protocol.event import Event, create_event
from protocol.identity import SigningKey, fingerprint
from tests.conftest import RunCli
from tests.peernode.test_cli import fails, ok

PEER = b"p" * 32


@dataclass
class Room:
    home: Path
    ben: SigningKey
    note: Event
    question: Event

    def cli(self, invoke_cli: RunCli, *args: str) -> str:
        return ok(invoke_cli(*args, "--home", str(self.home)))


def _room(tmp_path: Path) -> Room:
    """A home where Ben, a stranger, posted a note and asked a question in my circle."""
    home, ben = tmp_path / "home", SigningKey.generate()

    def sign(kind: str, circle: str, body: dict[str, object], at: int) -> Event:
        return create_event(ben, kind=kind, circle=circle, body=body, created_at=at)

    profile = sign(kinds.PROFILE, "", {"name": "Ben"}, 1_000)
    note = sign(kinds.NOTE, "lobby", {"text": "hello from Ben"}, 2_000)
    join = sign(kinds.JOIN, "sql", {}, 3_000)
    question = sign(kinds.QUESTION, "sql", {"title": "What is a join?"}, 4_000)

    async def fill() -> None:
        async with Node(Home(home), NodeConfig(watch=False)) as node:
            await node.create_identity("Me")
            await node.circles.create("sql", name="SQL basics")
            await node.post("hello from me")
            await node.ingest([event.raw for event in (profile, note, join, question)])

    asyncio.run(fill())
    return Room(home, ben, note, question)


def texts(room: Room, invoke_cli: RunCli) -> list[str]:
    lines = room.cli(invoke_cli, "feed", "--json").splitlines()
    return [json.loads(line)["body"].get("text", "") for line in lines]


def questions(room: Room, invoke_cli: RunCli) -> str:
    return room.cli(invoke_cli, "questions", "sql")


def test_mute_hides_a_person_everywhere_until_unmuted(tmp_path: Path, invoke_cli: RunCli) -> None:
    room = _room(tmp_path)
    assert "hello from Ben" in texts(room, invoke_cli)
    assert "What is a join?" in questions(room, invoke_cli)

    said = room.cli(invoke_cli, "mute", "Ben")

    assert "Ben (" in said
    assert "is muted" in said
    assert "peernode unmute" in said
    assert "hello from Ben" not in texts(room, invoke_cli)
    assert "hello from me" in texts(room, invoke_cli)
    assert "What is a join?" not in questions(room, invoke_cli)
    listed = room.cli(invoke_cli, "moderation")
    assert listed.startswith("muted")
    assert "Ben (" in listed
    assert room.ben.public_key.hex() not in listed  # a fingerprint, never the raw key

    assert "no longer muted" in room.cli(invoke_cli, "unmute", "ben")
    assert "hello from Ben" in texts(room, invoke_cli)
    assert "What is a join?" in questions(room, invoke_cli)
    assert "You have not muted" in room.cli(invoke_cli, "moderation")


def test_block_by_fingerprint_declines_new_events(tmp_path: Path, invoke_cli: RunCli) -> None:
    room = _room(tmp_path)

    said = room.cli(invoke_cli, "block", fingerprint(room.ben.public_key)[:9])

    assert "is blocked" in said
    assert "peernode unblock" in said
    assert "hello from Ben" not in texts(room, invoke_cli)
    (entry,) = map(json.loads, room.cli(invoke_cli, "moderation", "--json").splitlines())
    assert entry["level"] == "block"
    assert entry["key"] == room.ben.public_key.hex()
    later = create_event(
        room.ben, kind=kinds.NOTE, circle="lobby", body={"text": "still here"}, created_at=9_000
    )

    async def receive() -> int:
        async with Node(Home(room.home), NodeConfig(watch=False)) as node:
            return len((await node.ingest([later.raw], PEER)).new)

    assert asyncio.run(receive()) == 0
    assert "no longer blocked" in room.cli(invoke_cli, "unblock", "Ben")
    assert "was not blocked" in room.cli(invoke_cli, "unblock", "Ben")


def test_hide_one_event_for_myself(tmp_path: Path, invoke_cli: RunCli) -> None:
    room = _room(tmp_path)
    short = room.question.id.hex()[:12]

    assert "is hidden" in room.cli(invoke_cli, "hide", short)

    assert "What is a join?" not in questions(room, invoke_cli)
    assert "hello from Ben" in texts(room, invoke_cli)  # only that event
    assert f"hidden   event {short}" in room.cli(invoke_cli, "moderation")
    assert "shows again" in room.cli(invoke_cli, "unhide", short)
    assert "What is a join?" in questions(room, invoke_cli)


def test_unknown_people_are_refused_in_one_sentence(tmp_path: Path, invoke_cli: RunCli) -> None:
    room = _room(tmp_path)

    fails(invoke_cli("mute", "Zed", "--home", str(room.home)), "'Zed'", "nobody known here")
    fails(invoke_cli("block", "Me", "--home", str(room.home)), "cannot mute or block yourself")
    entries = map(json.loads, room.cli(invoke_cli, "feed", "--json").splitlines())
    join_id = next(entry["id"] for entry in entries if entry["kind"] == kinds.JOIN)[:12]
    fails(invoke_cli("hide", join_id, "--home", str(room.home)), "mute the person instead")
