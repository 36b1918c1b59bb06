"""The study circle's actions over HTTP: questions and answers, meetings, membership."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from peernode.api.challenge_routes import ChallengeEndpoints
from peernode.api.config import ApiConfig
from peernode.api.file_routes import FileEndpoints
from peernode.api.idempotency import KeyBook
from peernode.api.models import (
    AnswerOut,
    Membership,
    NewAnswer,
    NewMeeting,
    NewQuestion,
    Published,
    QuestionList,
    QuestionOut,
    Resolve,
)
from peernode.api.port import ApiNode
from peernode.api.publishing import Publisher
from peernode.api.routes import ID, Endpoints, Param, Route, decode, reply
from peernode.circles.model import Question
from peernode.storage import AsyncStore
from protocol.event import Event

CIRCLE = Param("circle", str, "the circle's slug", "path")
QUESTION = Param("id", str, "the question's id (or 8+ leading hex digits)", "path", ID)


def every_route(node: ApiNode, store: AsyncStore, config: ApiConfig, keys: KeyBook) -> list[Route]:
    """The whole /v1 table: the node's endpoints, then the circle's, files' and challenges'."""
    endpoints = Endpoints(node, store, config, keys)
    publisher = endpoints.publisher
    return [
        *endpoints.routes(),
        *CircleEndpoints(node, publisher).routes(),
        *FileEndpoints(node, publisher).routes(),
        *ChallengeEndpoints(node, publisher).routes(),
    ]


class CircleEndpoints:
    """Handlers of the circle actions; writes go through the shared Publisher."""

    def __init__(self, node: ApiNode, publisher: Publisher) -> None:
        self.node = node
        self.publisher = publisher

    def routes(self) -> list[Route]:
        base = "/v1/circles/{circle}"
        return [
            Route(
                "GET", f"{base}/questions", "read", "A circle's questions and their answers",
                self.questions, QuestionList, params=(CIRCLE,),
            ),
            Route(
                "POST", f"{base}/questions", "post", "Ask the circle a question",
                self.ask, Published, request=NewQuestion, params=(CIRCLE,), status=201,
            ),
            Route(
                "POST", "/v1/questions/{id}/answers", "post", "Answer a question",
                self.answer, Published, request=NewAnswer, params=(QUESTION,), status=201,
            ),
            Route(
                "POST", "/v1/questions/{id}/resolve", "post", "Mark this node's question resolved",
                self.resolve, Published, request=Resolve, params=(QUESTION,), status=201,
            ),
            Route(
                "POST", f"{base}/meetings", "post", "Schedule a meeting",
                self.schedule, Published, request=NewMeeting, params=(CIRCLE,), status=201,
            ),
            Route(
                "POST", f"{base}/join", "post", "Join the circle",
                self.join, Published, request=Membership, params=(CIRCLE,), status=201,
            ),
            Route(
                "POST", f"{base}/leave", "post", "Leave the circle",
                self.leave, Published, request=Membership, params=(CIRCLE,), status=201,
            ),
        ]  # fmt: skip

    async def questions(self, request: web.Request) -> web.Response:
        state = await self.node.circles.state(request.match_info["circle"])
        return reply(QuestionList([self._question(question) for question in state.questions]))

    async def ask(self, request: web.Request) -> web.Response:
        async def act(body: bytes) -> Event:
            new = decode(body, NewQuestion)
            slug = request.match_info["circle"]
            return await self.node.circles.ask(slug, new.title, new.text, new.tags)

        return await self.publisher.handle(request, act)

    async def answer(self, request: web.Request) -> web.Response:
        async def act(body: bytes) -> Event:
            text = decode(body, NewAnswer).text
            return await self.node.circles.answer(request.match_info["id"], text)

        return await self.publisher.handle(request, act)

    async def resolve(self, request: web.Request) -> web.Response:
        async def act(body: bytes) -> Event:
            wanted = decode(body, Resolve)
            question = request.match_info["id"]
            return await self.node.circles.resolve(question, wanted.answer, wanted.note)

        return await self.publisher.handle(request, act)

    async def schedule(self, request: web.Request) -> web.Response:
        async def act(body: bytes) -> Event:
            new = decode(body, NewMeeting)
            fields = {"place": new.place, "duration_minutes": new.duration_minutes}
            slug = request.match_info["circle"]
            return await self.node.circles.schedule_meeting(slug, starts_at=new.starts_at, **fields)

        return await self.publisher.handle(request, act)

    async def join(self, request: web.Request) -> web.Response:
        return await self._membership(request, self.node.circles.join)

    async def leave(self, request: web.Request) -> web.Response:
        return await self._membership(request, self.node.circles.leave)

    async def _membership(
        self, request: web.Request, change: Callable[[str, str], Awaitable[Event]]
    ) -> web.Response:
        async def act(body: bytes) -> Event:
            message = decode(body, Membership).message
            return await change(request.match_info["circle"], message)

        return await self.publisher.handle(request, act)

    def _question(self, question: Question) -> QuestionOut:
        name_of = self.node.profile_of
        answers = [
            AnswerOut(a.id.hex(), a.author.hex(), name_of(a.author).name, a.created_at, a.text)
            for a in question.answers
        ]
        return QuestionOut(
            id=question.id.hex(),
            author=question.author.hex(),
            author_name=name_of(question.author).name,
            created_at=question.created_at,
            title=question.title,
            text=question.text,
            tags=list(question.tags),
            status=question.status,
            answers=answers,
            helped=question.helped.hex() if question.helped else None,
        )
