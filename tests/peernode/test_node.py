"""The node facade on a real home: writing, reading, ingesting and the live stream."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap

import pytest

from peernode.errors import BadInput, IdentityExists, NoIdentity
from peernode.home import Home
from peernode.node import Node, NodeConfig, Subscription
from peernode.storage.store import Store
from protocol import kinds
from protocol.event import Event, create_event
from protocol.identity import SigningKey
from tests.conftest import RunCli

OFFLINE = NodeConfig(watch=False)
WATCHING = NodeConfig(watch=True, watch_interval=0.05)
PEER = SigningKey.from_seed(b"\x09" * 32)


def peer_note(text: str, created_at: int = 1_000, circle: str = "lobby") -> Event:
    return create_event(
        PEER, kind=kinds.NOTE, circle=circle, body={"text": text}, created_at=created_at
    )


async def next_events(subscription: Subscription, count: int) -> list[Event]:
    async with asyncio.timeout(10):
        return [await subscription.queue.get() for _ in range(count)]


async def test_post_then_feed(home: Home) -> None:
    async with Node(home, OFFLINE) as node:
        await node.create_identity("Ana", learning="rust")
        first = await node.post("hello")
        await asyncio.sleep(0.002)  # posts in one millisecond would sort by id
        second = await node.post("in algebra", channel="algebra", reply_to=first.id)

        feed = await node.feed()
        notes = [entry for entry in feed if entry.event.kind == kinds.NOTE]
        assert [entry.event for entry in notes] == [first, second]
        assert all(entry.author_name == "Ana" for entry in feed)
        assert [e.event.id for e in await node.feed("algebra")] == [second.id]
        assert second.refs == {"reply_to": first.id}
        assert (await node.feed(limit=1))[0].event == second

    # Everything survives a restart.
    async with Node(home, OFFLINE) as node:
        assert node.my_profile().name == "Ana"
        assert node.my_profile().learning == "rust"
        assert [entry.event.id for entry in await node.feed("lobby")] == [first.id]
        assert await node.event_count() == 3
        assert [(c.channel, c.events) for c in await node.channels()] == [
            ("algebra", 1),
            ("lobby", 1),
        ]


async def test_writing_needs_an_identity(home: Home) -> None:
    async with Node(home, OFFLINE) as node:
        assert not node.has_identity
        with pytest.raises(NoIdentity):
            await node.post("hello")
        assert await node.event_count() == 0


async def test_bad_input_is_refused_before_anything_is_stored(home: Home) -> None:
    async with Node(home, OFFLINE) as node:
        node.ensure_identity()
        for text, circle in [("", "lobby"), ("  ", "lobby"), ("x", "Bad Circle"), ("x", "")]:
            with pytest.raises(BadInput):
                await node.post(text, channel=circle)
        with pytest.raises(BadInput):
            await node.create_identity("   ")
        assert await node.event_count() == 0


async def test_identity_is_created_once(home: Home) -> None:
    async with Node(home, OFFLINE) as node:
        profile = await node.create_identity("Ana")
        with pytest.raises(IdentityExists):
            await node.create_identity("Other")
        assert node.my_profile() == profile


async def test_profile_updates_keep_unchanged_fields(home: Home) -> None:
    async with Node(home, OFFLINE) as node:
        await node.create_identity("Ana", learning="rust", can_help="sql")
        updated = await node.update_profile(name="Ana B")

        assert (updated.name, updated.learning, updated.can_help) == ("Ana B", "rust", "sql")
        profiles = [e for e in await node.feed() if e.event.kind == kinds.PROFILE]
        assert len(profiles) == 2
        assert profiles[1].event.created_at > profiles[0].event.created_at


async def test_ingest_stores_dedups_and_rejects(home: Home) -> None:
    a, b, c = peer_note("a", 1), peer_note("b", 2), peer_note("c", 3)
    tampered = a.raw[:-1] + bytes([a.raw[-1] ^ 1])

    async with Node(home, OFFLINE) as node:
        first = await node.ingest([a.raw, b.raw, a.raw, tampered])

        assert first.new == [a, b]
        assert first.duplicates == 1
        assert [bad.raw for bad in first.rejected] == [tampered]
        assert first.rejected[0].reason.startswith("signature: ")

        second = await node.ingest([a.raw, b.raw, c.raw, c.raw])

        assert second.new == [c]
        assert second.duplicates == 3
        assert second.rejected == []
        assert await node.event_count() == 3
        assert sorted(await node.raw_events([a.id, c.id])) == sorted([a.raw, c.raw])
        assert [created for created, _ in await node.time_index()] == [1, 2, 3]


async def test_known_ids_are_dropped_before_verifying(home: Home) -> None:
    stored = peer_note("stored")
    # Same content, hence same id, but a signature that would fail verification.
    forged_copy = bytes(64) + stored.raw[64:]

    async with Node(home, OFFLINE) as node:
        await node.ingest([stored.raw])
        result = await node.ingest([forged_copy])

    # Counted as a duplicate (it was never verified), not as a rejection.
    assert (result.new, result.duplicates, result.rejected) == ([], 1, [])


async def test_profiles_from_peers_name_their_events(home: Home) -> None:
    old = create_event(PEER, kind=kinds.PROFILE, circle="", body={"name": "Old"}, created_at=5)
    new = create_event(PEER, kind=kinds.PROFILE, circle="", body={"name": "Bea"}, created_at=9)
    note = peer_note("hi", created_at=10)

    async with Node(home, OFFLINE) as node:
        await node.ingest([new.raw, old.raw, note.raw])  # out of order on purpose
        assert node.profile_of(PEER.public_key).name == "Bea"
        assert (await node.feed("lobby"))[0].author_name == "Bea"
        assert [p.name for p in node.profiles()] == ["Bea"]

    async with Node(home, OFFLINE) as node:
        assert node.profile_of(PEER.public_key).name == "Bea"
        assert node.profile_of(b"\x01" * 32).name.startswith("anon-")


async def test_subscribers_get_new_events_once(home: Home) -> None:
    async with Node(home, OFFLINE) as node:
        node.ensure_identity()
        subscription = node.subscribe()
        other = node.subscribe()
        mine = await node.post("mine")
        theirs = peer_note("theirs")
        await node.ingest([theirs.raw, theirs.raw, mine.raw])

        assert await next_events(subscription, 2) == [mine, theirs]
        assert subscription.queue.empty()
        assert await next_events(other, 2) == [mine, theirs]

        node.unsubscribe(other)
        later = await node.post("later")
        assert await next_events(subscription, 1) == [later]
        assert other.queue.empty()


async def test_subscribers_see_writes_of_another_connection(home: Home) -> None:
    async with Node(home, WATCHING) as node:
        subscription = node.subscribe()
        written = [peer_note(f"from another connection {i}", created_at=i) for i in range(3)]

        other = Store(home.db_path)
        try:
            other.insert_events(written, received_at=1)
        finally:
            other.close()

        # Written before the watcher's first look: still announced.
        assert await next_events(subscription, 3) == written

        await asyncio.sleep(0.15)  # the watcher is polling now
        later = peer_note("while watching", created_at=10)
        other = Store(home.db_path)
        try:
            other.insert_events([later], received_at=1)
        finally:
            other.close()
        assert await next_events(subscription, 1) == [later]


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from peernode.storage.store import Store
    from protocol.event import create_event
    from protocol.identity import SigningKey

    key = SigningKey.from_seed(bytes(32))
    store = Store(Path(sys.argv[1]))
    events = [
        create_event(key, kind="peernode/note@1", circle="c", body={"text": f"p{i}"}, created_at=i)
        for i in range(int(sys.argv[2]))
    ]
    store.insert_events(events, received_at=1)
    store.close()
    """
)


async def test_subscribers_see_writes_of_another_process(home: Home) -> None:
    async with Node(home, WATCHING) as node:
        node.ensure_identity()
        subscription = node.subscribe()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", WRITER, str(home.db_path), "5"
        )
        assert await process.wait() == 0

        events = await next_events(subscription, 5)

        assert [event.body["text"] for event in events] == [f"p{i}" for i in range(5)]
        assert await node.event_count() == 5
        # Our own writes still arrive once, not again through the watcher.
        mine = await node.post("mine")
        assert await next_events(subscription, 1) == [mine]
        await asyncio.sleep(0.2)
        assert subscription.queue.empty()


async def test_cli_write_reaches_a_running_node(home: Home, cli_env: dict[str, str]) -> None:
    async with Node(home, WATCHING) as node:
        node.ensure_identity()
        subscription = node.subscribe()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "peernode",
            "post",
            "--home",
            str(home.path),
            "from the cli",
            env=cli_env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()

        (event,) = await next_events(subscription, 1)

        assert event.body["text"] == "from the cli"
        assert stdout.decode() == f"Posted your note in #lobby (id {event.id.hex()[:12]}).\n"
        assert event.author == node.public_key


async def test_status(home: Home) -> None:
    async with Node(home, OFFLINE) as node:
        empty = await node.status()
        assert (empty.key, empty.name, empty.events) == (b"", "", 0)
        await node.create_identity("Ana")
        status = await node.status()
        assert (status.key, status.name, status.events) == (node.public_key, "Ana", 1)


def test_status_names_the_network_and_the_protocol_version(home: Home, invoke_cli: RunCli) -> None:
    shown = invoke_cli("--home", str(home.path), "status")
    assert shown.returncode == 0, shown.stderr
    assert "network: peernode-lan (protocol 1.1)" in shown.stdout.splitlines()
    as_json = invoke_cli("--home", str(home.path), "status", "--json")
    document = json.loads(as_json.stdout)
    assert (document["network"], document["spec"], document["skipped"]) == (
        "peernode-lan",
        "1.1",
        [],
    )


def test_peers_shows_the_newest_profile_name_not_the_one_remembered(
    home: Home, invoke_cli: RunCli
) -> None:
    renamed = create_event(PEER, kind=kinds.PROFILE, circle="", body={"name": "Bea"}, created_at=9)

    async def remember_then_rename() -> None:
        async with Node(home, OFFLINE) as node:
            await node.create_identity("Ana")
            await node.remember_peer(PEER.public_key, "Beatrice", "192.168.1.7", 7654)
            await node.ingest([renamed.raw])

    asyncio.run(remember_then_rename())
    listed = invoke_cli("--home", str(home.path), "peers")
    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.splitlines()
    assert line.startswith("Bea "), line
    assert "Beatrice" not in listed.stdout


def test_peers_keeps_the_remembered_name_until_a_profile_arrives(
    home: Home, invoke_cli: RunCli
) -> None:
    async def remember() -> None:
        async with Node(home, OFFLINE) as node:
            await node.create_identity("Ana")
            await node.remember_peer(PEER.public_key, "Beatrice", "192.168.1.7", 7654)

    asyncio.run(remember())
    listed = invoke_cli("--home", str(home.path), "peers")
    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.splitlines()
    assert line.startswith("Beatrice "), line
