"""The study-circle service: the node's circle operations, read and written as events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from peernode.circles.bodies import circle_body, compact, meeting_body
from peernode.circles.derive import derive_state, summarize
from peernode.circles.model import CircleState, CircleSummary, Helper, Mentor
from peernode.circles.queries import suggest_facilitators, who_can_help
from peernode.circles.report import Report
from peernode.circles.report import compute as compute_report
from peernode.clock import now_ms, shown_at
from peernode.errors import BadInput
from peernode.text import short_id
from protocol import kinds
from protocol.event import Event, load_verified

if TYPE_CHECKING:
    from peernode.ports import CircleNode
    from peernode.storage.async_store import AsyncStore


class ChallengeFacts(Protocol):
    """What a circle learns of its learning challenges (peernode.challenges, a layer above)."""

    async def mentors(self, circle: str) -> Sequence[Mentor]:
        """Who holds the badge of each challenge: they can help with what it is about."""
        ...

    async def glance(self, circle: str) -> Sequence[tuple[str, str]]:
        """The challenges' headline numbers for the insights report, as label and value."""
        ...


class CircleService:
    """Study circles on one node: `node.circles`. Reads fold the circle's events
    into a CircleState (peernode.circles.derive); writes publish signed events."""

    def __init__(
        self, node: CircleNode, store: AsyncStore, *, challenges: ChallengeFacts | None = None
    ) -> None:
        self._node = node
        self._store = store
        self._challenges = challenges

    async def events(self, circle: str, of_kinds: Sequence[str] | None = None) -> list[Event]:
        """Every event of `circle` (only `of_kinds` if given), oldest first."""
        raws = await self._store.channel_raw(circle, of_kinds)
        return [load_verified(raw) for raw in raws]

    async def state(self, circle: str) -> CircleState:
        """The circle as its events say (notes are read only when edited or deleted).

        Lists are in this node's display order (shown_at, see peernode.clock);
        which version, rsvp or membership counts is decided by the claims alone.
        """
        rows = await self._store.channel_rows(circle, sorted(kinds.CIRCLE_KINDS))
        events = [load_verified(row.raw) for row in rows]
        shown = {
            event.id: shown_at(event.created_at, row.received_at)
            for event, row in zip(events, rows, strict=True)
        }
        targets = {
            e.refs.get("target", b"") for e in events if e.kind in (kinds.EDIT, kinds.DELETE)
        }
        missing = list(targets - {event.id for event in events} - {b""})
        events += [load_verified(raw) for raw in await self._node.raw_events(missing)]
        # What the learner muted or hid leaves the lists (membership and versions stay).
        events = [event for event in events if not self._node.hides(event)]
        return derive_state(circle, events, shown=shown)

    async def known(self) -> list[CircleSummary]:
        """The circles this node knows of (those with a circle event), by slug."""
        of_kinds = [kinds.CIRCLE, kinds.JOIN, kinds.LEAVE, kinds.DELETE]
        rows = await self._store.feed(None, kinds=of_kinds)
        grouped: dict[str, list[Event]] = {}
        for row in rows:
            event = load_verified(row.raw)
            grouped.setdefault(event.circle, []).append(event)
        me = self._node.public_key if self._node.has_identity else None
        states = [derive_state(slug, events) for slug, events in sorted(grouped.items())]
        return [summarize(state, me) for state in states if state.exists]

    async def create(self, slug: str, *, name: str, **fields: Any) -> Event:
        """Start a circle (again, if its author deleted it); fields: topic, description,
        resources, rhythm, language."""
        if (await self.state(slug)).exists:
            raise BadInput(f"circle {slug} exists already; propose a change with an update")
        return await self._node.publish(
            kinds.CIRCLE, circle=slug, body=circle_body(name=name, **fields)
        )

    async def update(self, slug: str, **changes: Any) -> Event:
        """Propose a new version of the circle: the current one with `changes`."""
        current = (await self.state(slug)).current
        if current is None:
            raise BadInput(f"no circle {slug} here")
        body = current.to_body(**changes)
        # The `updates` ref alone makes it current (circles/versions.py): it takes the time
        # of now, so a version that claims a far future cannot push it out of range.
        return await self._node.publish(
            kinds.CIRCLE, circle=slug, body=body, refs={"updates": current.id}
        )

    async def join(self, slug: str, message: str = "") -> Event:
        return await self._membership(slug, kinds.JOIN, message)

    async def leave(self, slug: str, message: str = "") -> Event:
        return await self._membership(slug, kinds.LEAVE, message)

    async def schedule_meeting(
        self, circle: str, *, starts_at: int, previous: bytes | None = None, **fields: Any
    ) -> Event:
        """Schedule a meeting (anyone may); fields: duration_minutes, place, facilitator,
        agenda. `previous` defaults to the latest meeting starting before this one."""
        state = await self._existing(circle)
        if previous is None:
            earlier = [m.id for m in state.meetings if m.starts_at < starts_at]
            previous = earlier[-1] if earlier else None
        body = meeting_body(starts_at=starts_at, **fields)
        refs = {"previous": previous} if previous else None
        return await self._node.publish(kinds.MEETING, circle=circle, body=body, refs=refs)

    async def rsvp(self, meeting: str | bytes, answer: str) -> Event:
        return await self._about_meeting(meeting, kinds.RSVP, {"answer": answer})

    async def attend(self, meeting: str | bytes, note: str = "") -> Event:
        return await self._about_meeting(meeting, kinds.ATTENDANCE, compact({"note": note}))

    async def check_in(self, meeting: str | bytes, **fields: str) -> Event:
        """fields: feeling, working_on, need_help (at least one)."""
        return await self._about_meeting(meeting, kinds.CHECKIN, compact(fields))

    async def plus_delta(self, meeting: str | bytes, plus: str = "", delta: str = "") -> Event:
        body = compact({"plus": plus, "delta": delta})
        return await self._about_meeting(meeting, kinds.PLUSDELTA, body)

    async def ask(self, circle: str, title: str, text: str = "", tags: Sequence[str] = ()) -> Event:
        body = compact({"title": title, "text": text, "tags": list(tags)})
        return await self._node.publish(kinds.QUESTION, circle=circle, body=body)

    async def answer(self, question: str | bytes, text: str) -> Event:
        asked = await self._node.find_event(question, kinds.QUESTION)
        refs = {"question": asked.id}
        return await self._node.publish(
            kinds.ANSWER, circle=asked.circle, body={"text": text}, refs=refs
        )

    async def resolve(
        self, question: str | bytes, answer: str | bytes | None = None, note: str = ""
    ) -> Event:
        """Mark my question resolved, and which answer helped (only the asker's counts)."""
        asked = await self._node.find_event(question, kinds.QUESTION)
        if asked.author != self._node.public_key:
            raise BadInput("only the person who asked can mark a question resolved")
        refs = {"question": asked.id}
        if answer is not None:
            helped = await self._node.find_event(answer, kinds.ANSWER)
            if helped.refs.get("question") != asked.id:
                raise BadInput(f"answer {short_id(helped.id)} is not an answer to this question")
            refs["answer"] = helped.id
        after = await self._node.latest_mine_referring(asked.id, "question")
        return await self._node.publish_after(
            kinds.RESOLVED, asked.circle, compact({"note": note}), refs, after
        )

    async def add_resource(self, circle: str, url: str, title: str, **fields: Any) -> Event:
        """Share a link; fields: description, tags, licence."""
        body = compact({"url": url, "title": title, **fields, "tags": list(fields.get("tags", ()))})
        return await self._node.publish(kinds.RESOURCE, circle=circle, body=body)

    async def report(self, circle: str, now: int | None = None) -> Report:
        """The insights report of a circle, from the signed events this node holds."""
        state = await self._existing(circle)
        when = now_ms() if now is None else now
        extra = await self._challenges.glance(circle) if self._challenges else ()
        return compute_report(
            state, now=when, name_of=lambda key: self._node.profile_of(key).name, challenges=extra
        )

    async def who_can_help(
        self, circle: str, topic: str, *, asker: bytes | None = None
    ) -> list[Helper]:
        """Who can help `asker` (never listed) with `topic`."""
        mentors = await self._challenges.mentors(circle) if self._challenges else ()
        state = await self.state(circle)
        return who_can_help(state, topic, self._node.profiles(), asker=asker, mentors=mentors)

    async def suggest_facilitators(self, circle: str) -> list[bytes]:
        return suggest_facilitators(await self.state(circle))

    async def _existing(self, slug: str) -> CircleState:
        state = await self.state(slug)
        if not state.exists:
            raise BadInput(f"no circle {slug} here (create it, or wait until it syncs)")
        return state

    async def _membership(self, slug: str, kind: str, message: str) -> Event:
        state = await self._existing(slug)
        member = state.is_member(self._node.public_key)
        if member == (kind == kinds.JOIN):
            raise BadInput(f"you are {'already' if member else 'not'} a member of {slug}")
        events = await self.events(slug, [kinds.CIRCLE, kinds.JOIN, kinds.LEAVE])
        after = max((e.created_at for e in events if e.author == self._node.public_key), default=0)
        return await self._node.publish_after(
            kind, slug, compact({"message": message}), None, after
        )

    async def _about_meeting(self, meeting: str | bytes, kind: str, body: dict[str, Any]) -> Event:
        held = await self._node.find_event(meeting, kinds.MEETING)
        after = await self._node.latest_mine_referring(held.id, "meeting")
        return await self._node.publish_after(kind, held.circle, body, {"meeting": held.id}, after)
