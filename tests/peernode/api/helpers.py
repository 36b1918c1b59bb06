"""Events made in bulk for API tests, and the stream's first exchange."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from peernode.node import Node
from protocol import kinds
from protocol.event import create_event


async def store_notes(node: Node, count: int, *, text_bytes: int = 10, start: int = 0) -> list[str]:
    """Sign and store `count` notes in one transaction (as a bulk import does); their ids."""
    pad = "x" * max(0, text_bytes - 11)
    created = 1_796_000_000_000 + start
    events = [
        create_event(
            node.key,
            kind=kinds.NOTE,
            circle="lobby",
            body={"text": f"n{start + number:09d} {pad}"},
            created_at=created + number,
        )
        for number in range(count)
    ]
    stored = await node.store_signed(events)
    assert len(stored) == count
    return [event.id.hex() for event in events]


async def subscribe(ws: aiohttp.ClientWebSocketResponse, **wanted: Any) -> dict[str, Any]:
    """Send the subscribe message; returns the server's hello."""
    await ws.send_json({"type": "subscribe", **wanted})
    hello = json.loads(await ws.receive_str())
    assert hello["type"] == "hello", hello
    return hello


async def read_until_live(ws: aiohttp.ClientWebSocketResponse) -> tuple[list[dict[str, Any]], int]:
    """The replayed events, and the seq of the live message that ends the replay."""
    events: list[dict[str, Any]] = []
    while True:
        message = json.loads(await ws.receive_str())
        if message["type"] == "live":
            return events, message["seq"]
        assert message["type"] == "event", message
        events.append(message["event"])
