"""The extension example (examples/study_buddy.py) against a real node."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
from pathlib import Path
from types import ModuleType

from peernode.api import TokenBook
from peernode.clock import now_ms
from tests.peernode.api.conftest import ApiNode
from tests.support.waiting import eventually

EXAMPLE = Path(__file__).parents[3] / "examples" / "study_buddy.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("study_buddy", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_buddy_reminds_once_and_answers_next(api_node: ApiNode) -> None:
    node = api_node.node
    await node.circles.create("rust", name="Rust study group")
    await node.circles.schedule_meeting("rust", starts_at=now_ms() + 5 * 60_000, place="Library")
    secret = TokenBook(node.home).add("buddy", {"post"}, set(), 0)
    buddy = _example().StudyBuddy(api_node.base, secret, "rust", check_every=0.05)
    task = asyncio.create_task(buddy.run())
    try:

        async def notes() -> list[str]:
            return [entry.body.get("text", "") for entry in await node.feed("rust")]

        async def posted(start: str) -> bool:
            return any(text.startswith(start) for text in await notes())

        await eventually(lambda: posted("Reminder: Rust study group meets in 5 min"), "a reminder")
        asked = await node.post("!next", channel="rust")
        await eventually(lambda: posted("Next meeting:"), "the answer")
        answers = [e for e in await node.feed("rust") if e.event.refs.get("reply_to") == asked.id]
        assert answers[0].body["text"].endswith("at Library.")
        reminders = [text for text in await notes() if text.startswith("Reminder")]
        assert len(reminders) == 1  # checked many times, posted once
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
