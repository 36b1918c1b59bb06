"""Fixtures of the TUI tests (helpers are in tests/tui/helpers.py)."""

from __future__ import annotations

import asyncio

import pytest

from peernode.home import Home
from tests.tui.helpers import ANA, install_key, room_events, store


@pytest.fixture
def room(home: Home) -> Home:
    """A home whose identity is Ana, holding `room_events()`."""
    install_key(home, ANA)
    asyncio.run(store(home, room_events()))
    return home


@pytest.fixture
def circle_room(home: Home) -> Home:
    """A home whose identity is Ana, holding a study circle (tests/tui/circles/helpers.py)."""
    from tests.tui.circles.helpers import circle_events

    install_key(home, ANA)
    asyncio.run(store(home, circle_events()))
    return home
