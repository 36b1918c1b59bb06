"""Learning challenges over HTTP: list and show them, start, submit, review; badges and proofs."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import msgspec
from aiohttp import web

from peernode.api import convert
from peernode.api.errors import bad_request, not_found
from peernode.api.learning_models import (
    BadgeList,
    BadgeOut,
    ChallengeList,
    ChallengeOut,
    NewReview,
    NewStart,
    NewSubmission,
    ProofObject,
    ProofOut,
)
from peernode.api.models import Published
from peernode.api.port import ApiNode
from peernode.api.publishing import Publisher
from peernode.api.routes import HEX, ID, Param, Route, decode, hex_param, reply
from peernode.challenges import Challenge, badge_json
from peernode.challenges.portfolio import proof_object
from peernode.errors import NodeError
from protocol.badges import Badge
from protocol.event import Event

T = TypeVar("T")
CIRCLE = Param("circle", str, "the circle's slug", "path")
CHALLENGE = Param(
    "id", str, "a version of the challenge (its id or 8+ leading hex digits)", "path", ID
)
SUBMISSION = Param("id", str, "the submission's id (or 8+ leading hex digits)", "path", ID)
BADGE = Param(
    "id", str, "the badge's submission, or a challenge (then this node's badge)", "path", ID
)


class ChallengeEndpoints:
    """Handlers of the challenge actions; writes go through the shared Publisher."""

    def __init__(self, node: ApiNode, publisher: Publisher) -> None:
        self.node = node
        self.publisher = publisher

    def routes(self) -> list[Route]:
        return [
            Route(
                "GET", "/v1/circles/{circle}/challenges", "read", "A circle's challenges",
                self.challenges, ChallengeList, params=(CIRCLE,),
            ),
            Route(
                "GET", "/v1/challenges/{id}", "read", "A challenge, its cohort, work and holders",
                self.challenge, ChallengeOut, params=(CHALLENGE,),
            ),
            Route(
                "POST", "/v1/challenges/{id}/start", "post", "Say this node is on the challenge",
                self.start, Published, request=NewStart, params=(CHALLENGE,), status=201,
            ),
            Route(
                "POST", "/v1/challenges/{id}/submissions", "post",
                "Submit work (again: a revision of this node's last)",
                self.submit, Published, request=NewSubmission, params=(CHALLENGE,), status=201,
            ),
            Route(
                "POST", "/v1/submissions/{id}/reviews", "post", "Review a submission",
                self.review, Published, request=NewReview, params=(SUBMISSION,), status=201,
            ),
            Route(
                "GET", "/v1/badges", "read", "The badges the events here prove",
                self.badges, BadgeList,
                params=(Param("holder", str, "only this holder's key (hex)", rules=HEX),),
            ),
            Route(
                "GET", "/v1/badges/{id}/proof", "read", "A badge and the events that prove it",
                self.proof, ProofOut, params=(BADGE,),
            ),
        ]  # fmt: skip

    async def challenges(self, request: web.Request) -> web.Response:
        found = await self.node.challenges.in_circle(request.match_info["circle"])
        return reply(ChallengeList([challenge_out(one) for one in found]))

    async def challenge(self, request: web.Request) -> web.Response:
        found = await _found(self.node.challenges.get(request.match_info["id"]))
        return reply(challenge_out(found))

    async def start(self, request: web.Request) -> web.Response:
        async def act(body: bytes) -> Event:
            message = decode(body, NewStart).message
            return await self.node.challenges.start(request.match_info["id"], message)

        return await self.publisher.handle(request, act)

    async def submit(self, request: web.Request) -> web.Response:
        async def act(body: bytes) -> Event:
            new = decode(body, NewSubmission)
            files = [_whole_id(file) for file in new.files]
            return await self.node.challenges.submit(request.match_info["id"], new.text, files)

        return await self.publisher.handle(request, act)

    async def review(self, request: web.Request) -> web.Response:
        async def act(body: bytes) -> Event:
            new = decode(body, NewReview)
            prompts = {"works": new.works, "question": new.question, "suggestion": new.suggestion}
            return await self.node.challenges.review(
                request.match_info["id"], approve=new.approve, meets=new.meets, note=new.note,
                **prompts,
            )  # fmt: skip

        return await self.publisher.handle(request, act)

    async def badges(self, request: web.Request) -> web.Response:
        found = await self.node.challenges.badges(hex_param(request, "holder"))
        return reply(BadgeList([badge_out(one) for one in found]))

    async def proof(self, request: web.Request) -> web.Response:
        proof = await _found(self.node.challenges.proof(request.match_info["id"]))
        events = [*proof.events, *proof.profiles]
        name_of = self._name_of
        return reply(
            ProofOut(
                badge=badge_out(proof.badge),
                events=[convert.event_out(e, name_of, received_at=0, seq=None) for e in events],
                proof=msgspec.convert(proof_object(proof.badge.submission, events), ProofObject),
            )
        )

    def _name_of(self, key: bytes) -> str:
        return self.node.profile_of(key).name


def challenge_out(challenge: Challenge) -> ChallengeOut:
    return msgspec.convert(challenge.to_json(), ChallengeOut)


def badge_out(badge: Badge) -> BadgeOut:
    return msgspec.convert(badge_json(badge), BadgeOut)


async def _found(work: Awaitable[T]) -> T:
    """What `work` reads; a ref that names nothing here (or the wrong kind) is a 404."""
    try:
        return await work
    except NodeError as exc:
        raise not_found(str(exc)) from exc


def _whole_id(text: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) != 32:
        raise bad_request("every file must be a whole file id (64 hex digits)")
    return value
