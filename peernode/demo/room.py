"""The demo room: simulated learners on real peer nodes, so a lone learner sees a living circle.

Rules of this file:
- Demo peers are real `Node`s in this process and event loop, each on its own
  temporary home, listening on loopback only, with mDNS off: they cost little
  and cannot outlive the program that started them.
- Everything they write is in DEMO_CIRCLE, and every name ends in "(demo)".
- When the room stops, the learner forgets them: only demo events the
  learner's own events refer to (the note it replied to, and that note's
  thread up to its start) stay, with the profiles of their authors. If the
  program dies first, the learner's next start does the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import shutil
import tempfile
from collections.abc import Coroutine, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from peernode.clock import now_ms
from peernode.demo.script import (
    ANSWER_TO_LEARNER,
    CHATTER,
    DEMO_CIRCLE,
    DEMO_LABEL,
    MEMBERS,
    REPLIES,
    SCRIPT,
    TO_THE_LEARNER,
)
from peernode.errors import BadInput, NodeError
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig
from protocol import kinds
from protocol.event import Event

__all__ = ["DEMO_CIRCLE", "DEMO_LABEL", "DemoRoom"]

log = logging.getLogger(__name__)

DEFAULT_MEMBERS: Final = 4
MINUTE_MS: Final = 60_000
REPLY_CHANCE: Final = 0.35
"""Share of the ticks on which a member replies to a recent note instead of writing a new one."""
DEMO_NODE: Final = NodeConfig(
    verify_workers=1,
    watch=False,
    network=NetworkConfig(port=0, host="127.0.0.1", mdns=False, reconnect_max=5.0),
)


class _Deck:
    """Texts drawn in a shuffled order, each once before any repeats."""

    def __init__(self, texts: Sequence[str], rng: random.Random) -> None:
        self._texts = list(texts)
        self._rng = rng
        self._left: list[str] = []

    def draw(self) -> str:
        if not self._left:
            self._left = self._texts[:]
            self._rng.shuffle(self._left)
        return self._left.pop()


class DemoRoom:
    """A sample study circle held by a few simulated learners, linked to `learner`.

    `async with DemoRoom(node):`, or start() and stop(). The learner's networking
    must be running. interval: seconds between two spontaneous posts (drawn at
    random in this range); answer_delay: how long a member "types" before
    answering the learner; seed: makes the choices repeatable.
    """

    def __init__(
        self,
        learner: Node,
        *,
        members: int = DEFAULT_MEMBERS,
        interval: tuple[float, float] = (20.0, 40.0),
        answer_delay: tuple[float, float] = (4.0, 9.0),
        seed: int | None = None,
        sync_timeout: float = 10.0,
    ) -> None:
        if not DEFAULT_MEMBERS <= members <= len(MEMBERS):
            raise BadInput(f"a demo room has {DEFAULT_MEMBERS} to {len(MEMBERS)} members")
        self.learner = learner
        self.members = MEMBERS[:members]
        self.interval = interval
        self.answer_delay = answer_delay
        self.sync_timeout = sync_timeout
        self.root: Path | None = None
        """The parent of the members' temporary homes (deleted by stop())."""
        self.started_at = 0
        self.stopped = False
        self._forgotten = False
        self._rng = random.Random(seed)
        self._chatter = _Deck(CHATTER, self._rng)
        self._replies = _Deck(REPLIES, self._rng)
        self._to_learner = _Deck(TO_THE_LEARNER, self._rng)
        self._nodes: list[Node] = []
        self._keys: set[bytes] = set()
        self._stack = AsyncExitStack()
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self._learner_posts: asyncio.Queue[Event] = asyncio.Queue()

    @property
    def keys(self) -> frozenset[bytes]:
        """The demo members' public keys (still known after stop())."""
        return frozenset(self._keys)

    async def __aenter__(self) -> DemoRoom:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the members, link them, and return once the learner holds the circle
        and their profiles (or after sync_timeout: they then arrive a little later)."""
        async with self._lock:
            if self._nodes or self.stopped:
                raise NodeError("a demo room starts only once")
            address = await self._learner_address()
            self.started_at = now_ms()
            self.root = Path(tempfile.mkdtemp(prefix="peernode-demo-"))
            for number, member in enumerate(self.members):
                home = Home(self.root / f"member-{number}")
                node = await self._stack.enter_async_context(Node(home, DEMO_NODE))
                self._nodes.append(node)
                await node.create_identity(member.display_name, member.learning, member.can_help)
                self._keys.add(node.public_key)
            # Before the learner holds any of their events: if this process dies, the
            # learner's next start forgets them.
            await self.learner.hold_temporarily(self._keys)
            script = self._script()
            for node in self._nodes:  # every member holds the whole circle from the start
                await node.store_signed(script)
                await node.start_network()
            hub = self._nodes[0]
            hub_port = (await hub.status()).port
            assert hub_port is not None
            for node in self._nodes[1:]:
                await node.connect("127.0.0.1", hub_port)
            for node in self._nodes:
                await node.connect(*address)
            await self._until_learner_holds(len(script))
            self._spawn(self._watch_learner(), "demo: watch the learner")
            self._spawn(self._chat(), "demo: chatter")

    async def stop(self) -> None:
        """Stop the members, delete their homes, and make the learner forget them
        (except what the learner's own events refer to). Safe to call twice."""
        try:
            await self.close_members()
        finally:
            await self.forget()

    async def close_members(self) -> None:
        """Stop the members and delete their homes (the first half of stop())."""
        async with self._lock:
            if self.stopped:
                return
            self.stopped = True
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            try:
                await self._stack.aclose()
            finally:
                if self.root is not None:
                    shutil.rmtree(self.root, ignore_errors=True)

    async def forget(self) -> None:
        """Make the learner forget the members (the second half of stop()). Cheapest
        with the learner's networking stopped: a running one restarts."""
        async with self._lock:
            if self._forgotten or not self._keys:
                return
            self._forgotten = True
            keeper = self.learner.public_key if self.learner.has_identity else None
            forgotten = await self.learner.forget_authors(self._keys, keep_referenced_by=keeper)
            log.info("demo room closed; %d demo events forgotten", forgotten)

    async def _learner_address(self) -> tuple[str, int]:
        network = self.learner.config.network
        port = (await self.learner.status()).port if self.learner.online else None
        if network is None or port is None:
            raise NodeError("the demo room needs your node's networking to be running")
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(
            network.host, network.host
        )
        return host, port

    def _script(self) -> list[Event]:
        """The sample circle, signed by its members, dated before the room opened."""
        ids: dict[str, bytes] = {}
        events: list[Event] = []
        for line in SCRIPT:
            node = self._nodes[line.member % len(self._nodes)]
            refs = {name: ids[label] for name, label in line.refs.items()}
            event = node.sign(
                line.kind,
                circle=DEMO_CIRCLE,
                body=line.body,
                refs=refs or None,
                created_at=self.started_at - line.minutes_ago * MINUTE_MS,
            )
            ids[line.label] = event.id
            events.append(event)
        return events

    async def _until_learner_holds(self, count: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.sync_timeout
        while loop.time() < deadline:
            events = await self.learner.circles.events(DEMO_CIRCLE)
            named = {profile.key for profile in self.learner.profiles()}
            if self._keys <= named and sum(event.author in self._keys for event in events) >= count:
                return
            await asyncio.sleep(0.05)
        log.warning("the demo circle did not reach the learner in %.0f s", self.sync_timeout)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("%s failed: %r", task.get_name(), exc, exc_info=exc)

    # -- the members' life --------------------------------------------------------------

    async def _watch_learner(self) -> None:
        """Queue what the learner writes in the demo circle (as the members receive it)."""
        learner = self.learner.public_key
        subscription = self._nodes[0].subscribe()
        try:
            async for event in subscription:
                if (
                    event.author == learner
                    and event.circle == DEMO_CIRCLE
                    and event.kind in (kinds.NOTE, kinds.QUESTION)
                    and event.created_at >= self.started_at
                ):
                    self._learner_posts.put_nowait(event)
        finally:
            self._nodes[0].unsubscribe(subscription)

    async def _chat(self) -> None:
        """Now and then a member writes; a note by the learner gets an answer soon."""
        while True:
            event: Event | None = None
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._rng.uniform(*self.interval)):
                    event = await self._learner_posts.get()
            if event is not None:
                await asyncio.sleep(self._rng.uniform(*self.answer_delay))
            try:
                await (self._say_something() if event is None else self._answer(event))
            except NodeError as exc:
                log.warning("a demo member could not post: %s", exc)

    async def _say_something(self) -> None:
        speaker = self._rng.choice(self._nodes)
        if self._rng.random() < REPLY_CHANCE:
            recent = await speaker.feed(DEMO_CIRCLE, limit=12)
            others = [
                entry.event
                for entry in recent
                if entry.event.kind == kinds.NOTE
                and entry.event.author in self._keys
                and entry.event.author != speaker.public_key
            ]
            if others:
                target = self._rng.choice(others)
                await speaker.post(self._replies.draw(), channel=DEMO_CIRCLE, reply_to=target.id)
                return
        await speaker.post(self._chatter.draw(), channel=DEMO_CIRCLE)

    async def _answer(self, event: Event) -> None:
        speaker = self._rng.choice(self._nodes)
        name = speaker.profile_of(event.author).name
        if event.kind == kinds.QUESTION:
            text = ANSWER_TO_LEARNER.format(name=name)
            refs = {"question": event.id}
            await speaker.publish(kinds.ANSWER, circle=DEMO_CIRCLE, body={"text": text}, refs=refs)
        else:
            text = self._to_learner.draw().format(name=name)
            await speaker.post(text, channel=DEMO_CIRCLE, reply_to=event.id)
