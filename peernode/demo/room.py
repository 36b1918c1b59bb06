"""The demo room: simulated learners on this laptop, so a lone learner sees a living circle.

Rules of this file:
- Each simulated learner is a real `Node` in this process, on its own temporary
  home, with no networking at all: what one writes reaches the others and the
  learner through `_pass_on()` (Node.ingest, as a link would deliver it), never
  through a socket, so the members cannot reach anyone else.
- Nothing of the demo leaves the learner's laptop: before any of it is stored,
  the learner's node keeps DEMO_CIRCLE and the members' keys local
  (Node.keep_local), so no read that hands events to peers sees them. What the
  learner writes in DEMO_CIRCLE stays local too: it answers people who exist
  only here.
- The members write only in DEMO_CIRCLE (and their profiles), and every name ends
  in "(demo)". They play the circle's past (script.py) when the room opens, then
  today's meeting (meeting.py) at the pace of `DemoTiming`, then chat.
- When the room stops, the learner forgets them: only demo events the
  learner's own events refer to (a note it replied to and that note's thread, a
  meeting it checked in at) stay, with the profiles of their authors, still
  local. If the program dies first, the learner's next start does the same.
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import tempfile
from collections.abc import Coroutine, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from peernode.clock import now_ms
from peernode.demo.meeting import MEETING_STARTS, MOVES, Move, Scene
from peernode.demo.script import (
    ANSWER_TO_LEARNER,
    CHATTER,
    DEMO_CIRCLE,
    DEMO_LABEL,
    HISTORY,
    MEMBERS,
    REPLIES,
    TO_THE_LEARNER,
)
from peernode.errors import BadInput, NodeError
from peernode.home import Home
from peernode.node import Node, NodeConfig, Subscription
from protocol import kinds
from protocol.event import Event

__all__ = ["DEMO_CIRCLE", "DEMO_LABEL", "DemoRoom", "DemoTiming"]

log = logging.getLogger(__name__)

DEFAULT_MEMBERS: Final = 4
MINUTE_MS: Final = 60_000
REPLY_CHANCE: Final = 0.35
"""Share of the small talk that replies to a recent note instead of starting a new one."""
PASS_ON_BATCH: Final = 10_000
"""Most events taken from a member's stream at a time (it holds a few between two calls)."""
MEMBER_NODE: Final = NodeConfig(verify_workers=1, watch=False, network=None)
"""A simulated learner's node: no networking, ever."""


@dataclass(frozen=True, slots=True)
class DemoTiming:
    """How fast the demo room lives, in seconds; tests run it fast."""

    pace: float = 1.0
    """Real seconds per script second: today's meeting (meeting.MOVES) plays at this pace."""
    chatter: tuple[float, float] = (20.0, 40.0)
    """Between two notes of small talk, once today's meeting has played."""
    answer_delay: tuple[float, float] = (4.0, 9.0)
    """How long a member "types" before answering what the learner wrote."""


@dataclass(slots=True, eq=False)
class _Member:
    """A simulated learner: its node, and the stream of what it stores."""

    node: Node
    stream: Subscription


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
    """A sample study circle held by a few simulated learners, beside `learner`.

    `async with DemoRoom(node):`, or start() and stop(). The learner's node needs
    an identity, not networking. timing: how fast the meeting plays and the
    members talk; seed: makes the choices repeatable.
    """

    def __init__(
        self,
        learner: Node,
        *,
        members: int = DEFAULT_MEMBERS,
        timing: DemoTiming | None = None,
        seed: int | None = None,
    ) -> None:
        if not DEFAULT_MEMBERS <= members <= len(MEMBERS):
            raise BadInput(f"a demo room has {DEFAULT_MEMBERS} to {len(MEMBERS)} members")
        self.learner = learner
        self.profiles = MEMBERS[:members]
        self.timing = timing or DemoTiming()
        self.root: Path | None = None
        """The parent of the members' temporary homes (deleted by stop())."""
        self.started_at = 0
        self.stopped = False
        self.meeting_played = asyncio.Event()
        """Set once every move of today's meeting is played."""
        self._opened = 0.0  # the loop's time at start
        self._forgotten = False
        self._rng = random.Random(seed)
        self._chatter = _Deck(CHATTER, self._rng)
        self._replies = _Deck(REPLIES, self._rng)
        self._to_learner = _Deck(TO_THE_LEARNER, self._rng)
        self._members: list[_Member] = []
        self._keys: list[bytes] = []
        self._ids: dict[str, bytes] = {}
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
        """Start the members and return once the learner holds the circle's past, its
        members' profiles and today's meeting (which starts soon)."""
        async with self._lock:
            if self._members or self.stopped:
                raise NodeError("a demo room starts only once")
            learner = self.learner.public_key  # the learner needs an identity: fail early
            self.started_at = now_ms()
            self._opened = asyncio.get_running_loop().time()
            self.root = Path(tempfile.mkdtemp(prefix="peernode-demo-"))
            await self._open_members()
            # Before the learner holds anything of theirs: it never leaves this laptop,
            # and if this process dies, the learner's next start forgets it.
            await self.learner.keep_local(channels=[DEMO_CIRCLE], authors=self._keys)
            await self.learner.hold_temporarily(self._keys)
            await self._write_history()
            now = [move for move in MOVES if move.at <= 0]
            for move in now:
                await self._play(move)
            self._spawn(self._watch_learner(learner), "demo: watch the learner")
            self._spawn(self._run(MOVES[len(now) :]), "demo: today's meeting")
            self._spawn(self._answer_learner(), "demo: answer the learner")

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

    async def _open_members(self) -> None:
        assert self.root is not None
        for number, profile in enumerate(self.profiles):
            home = Home(self.root / f"member-{number}")
            node = await self._stack.enter_async_context(Node(home, MEMBER_NODE))
            member = _Member(node, node.subscribe())
            self._members.append(member)
            await node.create_identity(profile.display_name, profile.learning, profile.can_help)
            self._keys.append(node.public_key)

    def _member(self, index: int) -> _Member:
        return self._members[index % len(self._members)]

    async def _write_history(self) -> None:
        """The circle's past, signed by its members, dated before the room opened."""
        for line in HISTORY:
            node = self._member(line.member).node
            body = dict(line.body)
            if line.starts_ago is not None:
                body["starts_at"] = self.started_at - line.starts_ago * MINUTE_MS
            if line.facilitator is not None:
                body["facilitator"] = self._keys[line.facilitator % len(self._keys)]
            refs = {name: self._ids[label] for name, label in line.refs.items()}
            created_at = self.started_at - line.minutes_ago * MINUTE_MS
            event = node.sign(
                line.kind, circle=DEMO_CIRCLE, body=body, refs=refs or None, created_at=created_at
            )
            await node.store_signed([event])
            self._ids[line.label] = event.id
        await self._pass_on()

    async def _pass_on(self) -> None:
        """Deliver what each member wrote since the last call to the other members and
        to the learner: what a link would do, with no network."""
        for member in self._members:
            mine = [
                event.raw
                for event in member.stream.drain(PASS_ON_BATCH)
                if event.author == member.node.public_key
            ]
            if not mine:
                continue
            for other in self._members:
                if other is not member:
                    await other.node.ingest(mine)
            await self.learner.ingest(mine)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("%s failed: %r", task.get_name(), exc, exc_info=exc)

    # -- today's meeting, then small talk -----------------------------------------------

    async def _run(self, moves: Sequence[Move]) -> None:
        """Play the moves at the room's pace, then talk now and then."""
        loop = asyncio.get_running_loop()
        for move in moves:
            wait = self._opened + move.at * self.timing.pace - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            await self._play(move)
        self.meeting_played.set()
        while True:
            await asyncio.sleep(self._rng.uniform(*self.timing.chatter))
            try:
                await self._say_something()
            except NodeError as exc:
                log.warning("a demo member could not post: %s", exc)

    async def _play(self, move: Move) -> None:
        node = self._member(move.member).node
        scene = Scene(
            circles=node.circles,
            post=lambda text: node.post(text, channel=DEMO_CIRCLE),
            ids=self._ids,
            keys=self._keys,
            meeting_starts=self.started_at + round(MEETING_STARTS * self.timing.pace * 1000),
        )
        try:
            event = await move.act(scene)
        except NodeError as exc:  # the learner's disk is full, ...: the meeting goes on
            log.warning("a demo member could not play its part: %s", exc)
            return
        if move.label:
            self._ids[move.label] = event.id
        await self._pass_on()

    async def _say_something(self) -> None:
        speaker = self._rng.choice(self._members).node
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
                await self._pass_on()
                return
        await speaker.post(self._chatter.draw(), channel=DEMO_CIRCLE)
        await self._pass_on()

    # -- the learner --------------------------------------------------------------------

    async def _watch_learner(self, learner: bytes) -> None:
        """Hand the members what the learner writes in the demo circle, and queue its
        notes and questions for an answer."""
        subscription = self.learner.subscribe()
        try:
            async for event in subscription:
                if event.author != learner or event.circle != DEMO_CIRCLE:
                    continue
                for member in self._members:
                    await member.node.ingest([event.raw])
                if event.kind in (kinds.NOTE, kinds.QUESTION) and event.created_at >= (
                    self.started_at
                ):
                    self._learner_posts.put_nowait(event)
        finally:
            self.learner.unsubscribe(subscription)

    async def _answer_learner(self) -> None:
        """A note by the learner gets a reply, a question an answer, after a little while."""
        while True:
            event = await self._learner_posts.get()
            await asyncio.sleep(self._rng.uniform(*self.timing.answer_delay))
            try:
                await self._answer(event)
            except NodeError as exc:
                log.warning("a demo member could not answer: %s", exc)

    async def _answer(self, event: Event) -> None:
        speaker = self._rng.choice(self._members).node
        name = self.learner.name_of(event.author)
        if event.kind == kinds.QUESTION:
            text = ANSWER_TO_LEARNER.format(name=name)
            await speaker.circles.answer(event.id, text)
        else:
            text = self._to_learner.draw().format(name=name)
            await speaker.post(text, channel=DEMO_CIRCLE, reply_to=event.id)
        await self._pass_on()
