"""WS /v1/stream: replay from the store, then live with no gap, and overflow with a resume seq."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from peernode.api import ApiConfig
from tests.peernode.api.conftest import ApiNode, StartNode
from tests.peernode.api.helpers import read_until_live, store_notes, subscribe
from tests.support.waiting import eventually

BURST = 10_000


async def test_replay_then_live_misses_nothing_under_a_burst(api_node: ApiNode) -> None:
    headers = api_node.token("reader", "read")
    before = await store_notes(api_node.node, BURST // 2)
    started = time.perf_counter()
    async with api_node.http.ws_connect(api_node.base + "/v1/stream", headers=headers) as ws:
        await subscribe(ws, kind="peernode/note@1")
        # The second half is stored while the first is being replayed.
        writer = asyncio.create_task(_store_in_batches(api_node, BURST // 2, start=BURST // 2))
        received: list[dict[str, Any]] = []
        replayed, live_seq = await read_until_live(ws)
        received += replayed
        await writer
        while len(received) < BURST:
            message = json.loads(await ws.receive_str())
            assert message["type"] == "event", message
            received.append(message["event"])
        elapsed = time.perf_counter() - started
    seqs = [event["seq"] for event in received]
    assert seqs == sorted(set(seqs)), "every event once, in store order"
    assert [event["id"] for event in received[: len(before)]] == before
    assert len({event["id"] for event in received}) == BURST
    assert all(event["kind"] == "peernode/note@1" for event in received)
    assert live_seq >= replayed[-1]["seq"]
    print(f"\n{BURST} events through the stream in {elapsed:.2f} s ({BURST / elapsed:.0f}/s)")


async def _store_in_batches(api_node: ApiNode, count: int, *, start: int) -> None:
    for offset in range(0, count, 500):
        await store_notes(api_node.node, 500, start=start + offset)
        await asyncio.sleep(0)


async def test_live_events_follow_the_replay(api_node: ApiNode) -> None:
    headers = api_node.token("reader", "read")
    async with api_node.http.ws_connect(api_node.base + "/v1/stream", headers=headers) as ws:
        hello = await subscribe(ws, circle="lobby")
        _, live_seq = await read_until_live(ws)
        assert live_seq == hello["max_seq"]
        note = await api_node.node.post("hello from the node")
        message = json.loads(await ws.receive_str())
    assert message["type"] == "event"
    assert message["event"]["id"] == note.id.hex()
    assert message["event"]["seq"] > live_seq
    assert message["event"]["body"] == {"text": "hello from the node"}


async def test_a_client_that_falls_behind_gets_an_overflow_with_the_seq_to_resume_after(
    start_api_node: StartNode,
) -> None:
    config = ApiConfig(send_timeout=0.3, subscribe_timeout=2.0)
    async with start_api_node(config=config) as api_node:
        headers = api_node.token("reader", "read")
        ids = await store_notes(api_node.node, 3000, text_bytes=3000)
        url = api_node.base + "/v1/stream"
        async with api_node.http.ws_connect(url, headers=headers) as ws:
            await subscribe(ws, kind="peernode/note@1")
            # Not reading: the socket's buffers fill and the server stops waiting.
            stats = api_node.node.api.stream_stats  # type: ignore[union-attr]
            await eventually(lambda: stats.overflows == 1, "the stream to overflow")
            received: list[str] = []
            while True:
                message = json.loads(await ws.receive_str())
                if message["type"] != "event":
                    break
                received.append(message["event"]["id"])
                last_seq = message["event"]["seq"]
        assert message["type"] == "overflow"
        assert message["resume_after_seq"] == last_seq
        assert 0 < len(received) < len(ids)
        async with api_node.http.ws_connect(url, headers=headers) as ws:
            await subscribe(ws, kind="peernode/note@1", after_seq=message["resume_after_seq"])
            rest, _ = await read_until_live(ws)
    assert received + [event["id"] for event in rest] == ids


async def test_a_bad_subscribe_message_is_refused_in_one_sentence(api_node: ApiNode) -> None:
    headers = api_node.token("reader", "read")
    async with api_node.http.ws_connect(api_node.base + "/v1/stream", headers=headers) as ws:
        await ws.send_json({"type": "subscribe", "after_seq": "soon"})
        message = json.loads(await ws.receive_str())
    assert message["type"] == "error"
    assert message["error"]["code"] == "bad_subscribe"
    assert "after_seq" in message["error"]["message"]


async def test_a_web_page_offers_its_token_as_a_subprotocol(api_node: ApiNode) -> None:
    """A browser's WebSocket cannot send headers: the token comes as 'bearer.TOKEN'."""
    origin = "http://localhost:5173"
    headers = api_node.token("page", "read", origins=(origin,))
    secret = headers["Authorization"].removeprefix("Bearer ")
    protocols = ("peernode.v1", f"bearer.{secret}")
    url = api_node.base + "/v1/stream"
    async with api_node.http.ws_connect(url, protocols=protocols, origin=origin) as ws:
        assert ws.protocol == "peernode.v1"
        assert (await subscribe(ws))["max_seq"] == 1
    evil = "http://evil.example"
    async with api_node.http.get(
        url, headers={"Origin": evil, "Sec-WebSocket-Protocol": f"bearer.{secret}"}
    ) as response:
        assert response.status == 403


async def test_streams_at_once_are_bounded(start_api_node: StartNode) -> None:
    async with start_api_node(config=ApiConfig(max_streams=1)) as api_node:
        headers = api_node.token("reader", "read")
        url = api_node.base + "/v1/stream"
        async with api_node.http.ws_connect(url, headers=headers) as ws:
            await subscribe(ws)
            async with api_node.http.get(url, headers=headers) as response:
                assert response.status == 429
                assert (await response.json())["error"]["code"] == "too_many_streams"


async def test_the_stream_filters_by_author(api_node: ApiNode) -> None:
    headers = api_node.token("reader", "read")
    await store_notes(api_node.node, 3)
    author = api_node.node.public_key.hex()
    async with api_node.http.ws_connect(api_node.base + "/v1/stream", headers=headers) as ws:
        await subscribe(ws, author=author, kind="peernode/profile@1")
        events, live_seq = await read_until_live(ws)
    assert [event["kind"] for event in events] == ["peernode/profile@1"]
    assert live_seq == 4
