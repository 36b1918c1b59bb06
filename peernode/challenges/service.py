"""The challenge service: the node's challenges, reviews and badges, read and written as events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peernode.challenges.derive import derive_challenges
from peernode.challenges.insights import insights
from peernode.challenges.model import Challenge, challenge_body
from peernode.challenges.text import glance_rows
from peernode.circles.bodies import compact
from peernode.circles.derive import derive_state
from peernode.circles.model import Mentor
from peernode.errors import BadInput
from peernode.text import name_and_fingerprint as who_is
from peernode.text import short_id
from protocol import badges, kinds
from protocol.event import Event, load_verified
from protocol.identity import fingerprint

if TYPE_CHECKING:
    from peernode.ports import CircleNode, FileShelf
    from peernode.storage.async_store import AsyncStore

_KINDS = sorted(kinds.CHALLENGE_KINDS)
_MEMBERSHIP = [kinds.CIRCLE, kinds.JOIN, kinds.LEAVE]
_WHOLE_ID_DIGITS = 64


def _existing(given: str) -> Path | None:
    """The file or folder at `given` on this laptop, if there is one."""
    path = Path(given).expanduser()
    return path if path.exists() else None


@dataclass(frozen=True, slots=True)
class Proof:
    """A badge with the events that prove it and the profiles of the people in it."""

    badge: badges.Badge
    events: list[Event]
    profiles: list[Event]


class ChallengeService:
    """Learning challenges on one node: `node.challenges`. Reads fold a circle's challenge
    events (peernode.challenges.derive, protocol.badges); writes publish signed events."""

    def __init__(self, node: CircleNode, store: AsyncStore, files: FileShelf) -> None:
        self._node = node
        self._store = store
        self._files = files

    async def events(self, circle: str | None = None) -> list[Event]:
        """Every challenge event of `circle` (of every circle if None)."""
        if circle is not None:
            return [load_verified(raw) for raw in await self._store.channel_raw(circle, _KINDS)]
        return [load_verified(row.raw) for row in await self._store.feed(None, kinds=_KINDS)]

    async def in_circle(self, circle: str) -> list[Challenge]:
        """The challenges of `circle`, oldest first."""
        return derive_challenges(circle, await self.events(circle))

    async def get(self, ref: str | bytes) -> Challenge:
        """The challenge that the version `ref` (an id or ≥ 8 hex digits) belongs to."""
        version = await self._node.find_event(ref, kinds.CHALLENGE)
        for challenge in await self.in_circle(version.circle):
            if any(v.id == version.id for v in challenge.versions):
                return challenge
        raise BadInput(
            f"{short_id(version.id)} changes a challenge its author did not write, or one whose"
            " earlier versions are not here yet: it does not count (fork a challenge to change it)"
        )

    async def create(
        self, circle: str, *, forked_from: bytes | None = None, **fields: Any
    ) -> Event:
        """Write a new challenge in a circle I am a member of; fields: those of
        `challenge_body` (title, question, tasks, criteria, badge, k, reviewers, ...)."""
        await self._member_of(circle, "write a challenge")
        if "files" in fields:
            fields["files"] = await self._shared(circle, fields["files"])
        refs = {"forked_from": forked_from} if forked_from else None
        return await self._node.publish(
            kinds.CHALLENGE, circle=circle, body=challenge_body(**fields), refs=refs
        )

    async def update(self, ref: str | bytes, **changes: Any) -> Event:
        """A new version of my challenge: the current one with `changes`."""
        challenge = await self.get(ref)
        if challenge.author != self._node.public_key:
            raise BadInput("only its author changes a challenge: fork it to make one of yours")
        current = challenge.current
        if "files" in changes:
            changes["files"] = await self._shared(challenge.circle, changes["files"])
        body = challenge_body(**{**current.fields(), **changes})
        refs = {"updates": current.id}
        return await self._node.publish_after(
            kinds.CHALLENGE, challenge.circle, body, refs, current.created_at
        )

    async def fork(self, ref: str | bytes, circle: str | None = None, **changes: Any) -> Event:
        """A challenge of my own made from another (in `circle`, else the same circle)."""
        challenge = await self.get(ref)
        fields = {**challenge.current.fields(), **changes}
        return await self.create(circle or challenge.circle, forked_from=challenge.id, **fields)

    async def start(self, ref: str | bytes, message: str = "") -> Event:
        """Say I'm on this challenge."""
        challenge = await self.get(ref)
        if self._node.public_key in challenge.cohort:
            raise BadInput(f"you are on {challenge.current.title!r} already")
        await self._member_of(challenge.circle, "start a challenge")
        refs = {"challenge": challenge.current.id}
        body = compact({"message": message})
        return await self._node.publish(kinds.START, circle=challenge.circle, body=body, refs=refs)

    async def submit(
        self, ref: str | bytes, text: str = "", files: Sequence[bytes | Path] = ()
    ) -> Event:
        """Submit my work for the challenge's current version; a revision of my last one.
        `files`: ids of shared files, or paths, shared with the challenge's circle first."""
        challenge = await self.get(ref)
        await self._member_of(challenge.circle, "submit work")
        files = await self._shared(challenge.circle, files)
        mine = [s for s in challenge.submissions if s.author == self._node.public_key]
        refs = {"challenge": challenge.current.id}
        after = 0
        if mine:
            refs["previous"] = mine[-1].id
            after = mine[-1].created_at
        body = compact({"text": text, "files": list(files)})
        return await self._node.publish_after(kinds.SUBMISSION, challenge.circle, body, refs, after)

    async def _shared(self, circle: str, files: Sequence[bytes | Path]) -> list[bytes]:
        """File ids, the paths among `files` shared with `circle` first."""
        return [
            (await self._files.share(file, circle)).id if isinstance(file, Path) else file
            for file in files
        ]

    async def file_ref(self, given: str) -> bytes | Path:
        """What the learner gave for a file of their work: a path on this laptop, or the
        id of a file shared here (≥ 8 hex digits; a whole id even if its event is not here)."""
        path = await asyncio.to_thread(_existing, given)
        if path is not None:
            return path
        try:
            return (await self._files.find(given)).id
        except BadInput:
            if len(given) == _WHOLE_ID_DIGITS:
                with contextlib.suppress(ValueError):
                    return bytes.fromhex(given)
        raise BadInput(
            f"there is no file {given[:70]!r} on this laptop, nor a shared file of that id:"
            " give a path, or an id that 'peernode file list' shows"
        )

    async def review(
        self,
        submission: str | bytes,
        *,
        approve: bool,
        meets: Sequence[int] | None = None,
        **prompts: str,
    ) -> Event:
        """Review a submission; prompts: works, question, suggestion, note.

        `meets` are criterion indexes (every one when approving and not given); approving
        means every criterion is met, so an approval with one not yet is refused here."""
        work = await self._node.find_event(submission, kinds.SUBMISSION)
        challenge = await self.get(work.refs["challenge"])
        version = challenge.version(work.refs["challenge"])
        self._may_review(work, challenge, approve)
        await self._member_of(challenge.circle, "review work")
        count = len(version.criteria)
        met = sorted(set(range(count) if meets is None and approve else meets or ()))
        if any(not 0 <= index < count for index in met):
            raise BadInput(f"this challenge has criteria 1 to {count}: name those")
        if approve and len(met) < count:
            raise BadInput("approving means every criterion is met: mark them all, or revise")
        body = compact({"verdict": "approve" if approve else "revise", "meets": met, **prompts})
        after = await self._node.latest_mine_referring(work.id, "submission")
        refs = {"submission": work.id}
        return await self._node.publish_after(kinds.REVIEW, work.circle, body, refs, after)

    async def waiting_for_me(self, submission: bytes) -> Challenge | None:
        """The challenge of `submission` when it waits for my review: current work by
        someone else, in a circle I am in, that I may approve and have not reviewed yet."""
        try:
            work = await self._node.find_event(submission, kinds.SUBMISSION)
            challenge = await self.get(work.refs["challenge"])
            self._may_review(work, challenge, approve=True)
            await self._member_of(challenge.circle, "review")
        except BadInput:
            return None
        done = await self._node.latest_mine_referring(work.id, "submission")
        return None if done else challenge

    def _may_review(self, work: Event, challenge: Challenge, approve: bool) -> None:
        me = self._node.public_key
        if work.author == me:
            raise BadInput("you cannot review your own work: ask someone in the circle")
        if any(s.id == work.id and s.replaced for s in challenge.submissions):
            raise BadInput("a newer revision replaces this submission: review that one")
        holders = {challenge.author, *challenge.holders}
        if approve and challenge.current.reviewers == "holders" and me not in holders:
            raise BadInput(
                f"only holders of the badge {challenge.current.badge_name!r} may approve:"
                " you can still ask to revise, with feedback"
            )

    async def buddy(self, ref: str | bytes, learner: bytes | str, message: str = "") -> Event:
        """Ask a learner on the same challenge to be my buddy (a pair when they ask me too);
        `learner` is their key, or the name or fingerprint of someone on the challenge."""
        challenge = await self.get(ref)
        if isinstance(learner, str):
            learner = self._one_on(challenge, learner)
        if learner == self._node.public_key:
            raise BadInput("a buddy is someone else on the challenge")
        body = compact({"with": learner, "message": message})
        refs = {"challenge": challenge.current.id}
        return await self._node.publish(kinds.BUDDY, circle=challenge.circle, body=body, refs=refs)

    def _one_on(self, challenge: Challenge, who: str) -> bytes:
        """The learner on `challenge` whose name or fingerprint is `who`."""
        wanted = who.strip().lower()
        found = [
            key
            for key in challenge.cohort
            if self._node.profile_of(key).name.lower() == wanted
            or fingerprint(key).startswith(wanted)
        ]
        if len(found) == 1:
            return found[0]
        named = ", ".join(who_is(self._node.profile_of(key).name, key) for key in found)
        if found:
            raise BadInput(f"several on it are {who!r} ({named}): give the fingerprint")
        raise BadInput(f"nobody on this challenge is {who!r}: 'challenge show' lists who is on it")

    async def mentors(self, circle: str) -> list[Mentor]:
        """Who holds the badge of each challenge of `circle`: they can help with it."""
        return [
            Mentor(key, c.current.badge_name, f"{c.current.title} {c.current.question}")
            for c in await self.in_circle(circle)
            for key in c.mentors()
        ]

    async def glance(self, circle: str) -> list[tuple[str, str]]:
        """The challenges' headline numbers for the circle's insights report (none when the
        circle has no challenge: its report stays as it was)."""
        found = await self.in_circle(circle)
        return glance_rows(insights(found)) if found else []

    async def badges(self, holder: bytes | None = None) -> list[badges.Badge]:
        """The badges the events here prove (only `holder`'s if given), oldest first."""
        events = await self.events()
        found = []
        for circle in sorted({event.circle for event in events}):
            found += badges.earned(e for e in events if e.circle == circle)
        chosen = [b for b in found if holder is None or b.holder == holder]
        return sorted(chosen, key=lambda b: (b.earned_at, b.submission))

    async def proof(self, ref: str | bytes) -> Proof:
        """The proof of a badge: `ref` is the submission that earned it, or a challenge
        (then my badge for it)."""
        event = await self._node.find_event(ref)
        if event.kind == kinds.CHALLENGE:
            challenge = await self.get(event.id)
            mine = await self.badges(self._node.public_key)
            found = [b for b in mine if b.rule.challenge == challenge.id]
            if not found:
                raise BadInput(f"you hold no badge of {challenge.current.title!r} here")
            event = await self._node.find_event(found[0].submission)
        if event.kind != kinds.SUBMISSION:
            raise BadInput("give the id of a badge's submission, or of its challenge")
        events = await self.events(event.circle)
        held = next((b for b in badges.earned(events) if b.submission == event.id), None)
        if held is None:
            raise BadInput(f"submission {short_id(event.id)} has earned no badge (yet)")
        proof = badges.proof_events(events, event.id)
        people = sorted({e.author for e in proof})
        profiles = [load_verified(raw) for key in people for raw in await self._profile(key)]
        return Proof(held, proof, profiles)

    async def _profile(self, key: bytes) -> list[bytes]:
        return await self._store.latest_of_kind(kinds.PROFILE, key)

    async def _member_of(self, circle: str, to_do: str) -> None:
        raws = await self._store.channel_raw(circle, _MEMBERSHIP)
        state = derive_state(circle, [load_verified(raw) for raw in raws])
        if not state.exists:
            raise BadInput(f"no circle {circle} here (create it, or wait until it syncs)")
        if not state.is_member(self._node.public_key):
            raise BadInput(f"join {circle} first to {to_do} there")
