"""Helpers for driving the TUI over a real node on a temporary home."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from textual.pilot import Pilot

from peernode.home import Home, key_pem
from peernode.node import Node, NodeConfig
from protocol import kinds
from protocol.event import Event, create_event
from protocol.identity import SigningKey
from tests.support.waiting import eventually
from tui.app import PeernodeApp
from tui.screens.main import MainScreen

NOW = 1_700_000_000_000
"""The fixed 'now' of every test clock (ms)."""
MINUTE = 60_000

ANA = SigningKey.from_seed(bytes([1]) * 32)
BO = SigningKey.from_seed(bytes([2]) * 32)
CHEN = SigningKey.from_seed(bytes([3]) * 32)


def fixed_clock() -> int:
    return NOW


def install_key(home: Home, key: SigningKey) -> None:
    home.ensure()
    home.key_path.write_bytes(key_pem(key))
    os.chmod(home.key_path, 0o600)


def profile(key: SigningKey, name: str, at: int = NOW - 60 * MINUTE, **extra: str) -> Event:
    body = {"name": name, **extra}
    return create_event(key, kind=kinds.PROFILE, circle="", body=body, created_at=at)


def note(
    key: SigningKey, text: str, *, channel: str = "lobby", at: int, reply_to: Event | None = None
) -> Event:
    refs = {"reply_to": reply_to.id} if reply_to is not None else None
    return create_event(
        key, kind=kinds.NOTE, circle=channel, body={"text": text}, refs=refs, created_at=at
    )


async def store(home: Home, events: list[Event]) -> None:
    async with Node(home, NodeConfig(watch=False, verify_workers=1)) as node:
        await node.store_signed(events)


def room_events() -> list[Event]:
    """A small, fixed study room: three learners, two channels, a thread, an unknown kind."""
    question = note(BO, "How do I read a file line by line in **Rust**?", at=NOW - 42 * MINUTE)
    answer = note(
        CHEN,
        "Use `BufReader`:\n\n```rust\nfor line in reader.lines() {}\n```",
        at=NOW - 30 * MINUTE,
        reply_to=question,
    )
    thanks = note(BO, "Thanks, that works!", at=NOW - 3 * MINUTE, reply_to=answer)
    poll = create_event(
        CHEN,
        kind="example/poll@1",
        circle="lobby",
        body={"question": "Meet on Friday?"},
        created_at=NOW - 20 * MINUTE,
    )
    return [
        profile(ANA, "Ana", learning="Rust"),
        profile(BO, "Bo"),
        profile(CHEN, "Chen", can_help="Rust, Python"),
        note(ANA, "Welcome to the lobby! Say hi.", at=NOW - 3 * 60 * MINUTE),
        question,
        answer,
        poll,
        note(ANA, "Anyone up for a *pairing* session later?", at=NOW - 10 * MINUTE),
        thanks,
        note(BO, "Vectors or slices?", channel="rust", at=NOW - 5 * MINUTE),
        note(CHEN, "Slices, when you only read.", channel="rust", at=NOW - 4 * MINUTE),
    ]


@asynccontextmanager
async def running(
    home: Home,
    *,
    size: tuple[int, int] = (100, 30),
    clock: Callable[[], int] = fixed_clock,
    **app_options: Any,
) -> AsyncIterator[tuple[PeernodeApp, Pilot[None]]]:
    """A real node on `home` and the app over it, in this test's event loop."""
    async with Node(home, NodeConfig(watch_interval=0.05, verify_workers=1)) as node:
        options: dict[str, Any] = {"no_peer_after": 0.0, "status_interval": 0.5}
        options.update(app_options)
        app = PeernodeApp(node, clock=clock, **options)
        async with app.run_test(size=size) as pilot:
            yield app, pilot


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], within: float = 10.0) -> None:
    """Let the app run until `condition()` holds; fail after `within` seconds."""
    await eventually(condition, "the app's condition", within, every=0.02, pause=pilot.pause)


async def main_screen(app: PeernodeApp, pilot: Pilot[None]) -> MainScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.ready.is_set())
    screen = app.screen
    assert isinstance(screen, MainScreen)
    await pilot.pause()
    return screen


async def type_text(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*("space" if char == " " else char for char in text))


def feed_texts(screen: MainScreen) -> list[str]:
    return [str(row.entry.event.body.get("text", "")) for row in screen.feed.rows]


BIG_CHANNEL = "big"
BIG_START = 1_500_000_000_000


def sign_big_range(start: int, stop: int) -> list[bytes]:
    """Notes start..stop-1 of the big channel, one second apart (runs in a worker process)."""
    key = SigningKey.from_seed(bytes([1]) * 32)
    return [
        create_event(
            key,
            kind=kinds.NOTE,
            circle=BIG_CHANNEL,
            body={"text": f"note {i}"},
            created_at=BIG_START + i * 1000,
        ).raw
        for i in range(start, stop)
    ]
