"""The HTTP endpoints of /v1: one handler each, and the table the OpenAPI document is made from.

Rules of this file:
- Handlers take and give the typed models of models.py; query parameters are
  checked here and a wrong one is a 400 that names it.
- Sequence reads go to the store directly (the node's facade need not grow for
  them); everything else goes through the ApiNode port.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec
from aiohttp import web

from peernode.api import convert
from peernode.api.config import ApiConfig
from peernode.api.errors import JSON, bad_request, not_found
from peernode.api.idempotency import KeyBook
from peernode.api.models import (
    API_VERSION,
    CircleBrief,
    CircleList,
    CircleOut,
    ConnectRequest,
    EventOut,
    EventPage,
    FeedPage,
    NewEvent,
    Peer,
    PeerList,
    Published,
    Status,
)
from peernode.api.port import ApiNode
from peernode.api.publishing import Publisher
from peernode.clock import ShownKey, now_ms
from peernode.errors import NodeError
from peernode.storage import AsyncStore
from protocol.event import Event
from protocol.identity import fingerprint

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DEFAULT_LIMIT: Final = 100
HEX: Final = (("pattern", "^([0-9a-fA-F]{2})*$"),)
ID: Final = (("pattern", "^[0-9a-fA-F]{8,64}$"),)


@dataclass(frozen=True, slots=True)
class Param:
    """A query or path parameter, for the checks and the OpenAPI document."""

    name: str
    kind: type
    description: str
    where: str = "query"
    rules: tuple[tuple[str, object], ...] = ()
    """JSON Schema keywords the value meets (minimum, pattern, ...)."""


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint: what it needs (scope), takes and returns."""

    method: str
    path: str
    scope: str | None
    summary: str
    handler: Handler
    response: type
    request: type | None = None
    params: tuple[Param, ...] = ()
    status: int = 200


@dataclass(slots=True)
class Endpoints:
    """The handlers, over one node and its store."""

    node: ApiNode
    store: AsyncStore
    config: ApiConfig
    keys: KeyBook
    publisher: Publisher = field(init=False)

    def __post_init__(self) -> None:
        self.publisher = Publisher(self.node, self.store, self.config, self.keys)

    def routes(self) -> list[Route]:
        most = self.config.page_limit
        limit = Param(
            "limit",
            int,
            f"at most this many (1 to {most})",
            rules=(("minimum", 1), ("maximum", most)),
        )
        return [
            Route("GET", "/v1/status", "read", "The node at a glance", self.status, Status),
            Route("GET", "/v1/peers", "read", "Linked and remembered peers", self.peers, PeerList),
            Route(
                "GET",
                "/v1/events",
                "read",
                "Events in store order, after a seq",
                self.events,
                EventPage,
                params=(
                    Param(
                        "after_seq",
                        int,
                        "only events after this seq (0: from the start)",
                        rules=(("minimum", 0), ("maximum", 2**63 - 1)),
                    ),
                    Param("circle", str, "only this channel (a circle's slug)"),
                    Param("kind", str, "only this kind"),
                    Param("author", str, "only this author's key (hex)", rules=HEX),
                    limit,
                ),
            ),
            Route(
                "GET",
                "/v1/events/{id}",
                "read",
                "One event by id (or 8+ leading hex digits)",
                self.event,
                EventOut,
                params=(
                    Param("id", str, "the event id in hex (8+ leading digits)", "path", ID),
                    Param("raw", bool, "include the signed bytes (base64)"),
                ),
            ),
            Route(
                "GET",
                "/v1/feed",
                "read",
                "A channel's feed, newest last, edits applied",
                self.feed,
                FeedPage,
                params=(
                    Param("channel", str, "the channel (default: every channel)"),
                    Param(
                        "before",
                        str,
                        "the cursor of the page before (from a FeedPage)",
                        rules=(("pattern", r"^[0-9]+\.[0-9]+\.([0-9a-f]{2})+$"),),
                    ),
                    limit,
                ),
            ),
            Route(
                "POST",
                "/v1/events",
                "post",
                "Sign and publish an event as this node",
                self.post_event,
                Published,
                request=NewEvent,
                status=201,
            ),
            Route(
                "GET", "/v1/circles", "read", "Circles this node knows", self.circles, CircleList
            ),
            Route(
                "GET",
                "/v1/circles/{circle}",
                "read",
                "A circle, its members and meetings",
                self.circle,
                CircleOut,
                params=(Param("circle", str, "the circle's slug", "path"),),
            ),
            Route(
                "POST",
                "/v1/peers",
                "admin",
                "Link to a peer by address and keep it linked",
                self.connect,
                Peer,
                request=ConnectRequest,
            ),
        ]

    async def status(self, request: web.Request) -> web.Response:
        status = await self.node.status()
        return reply(
            Status(
                api_version=API_VERSION,
                name=status.name,
                key=status.key.hex(),
                fingerprint=fingerprint(status.key) if status.key else "",
                port=status.port,
                events=status.events,
                linked_peers=status.linked,
                discovery=status.discovery,
                store_id=await self.store.store_id(),
                max_seq=await self.store.max_seq(),
            )
        )

    async def peers(self, request: web.Request) -> web.Response:
        status = await self.node.status()
        return reply(PeerList([convert.peer_out(peer) for peer in status.peers]))

    async def events(self, request: web.Request) -> web.Response:
        after = int_param(request, "after_seq", 0, 0, 2**63 - 1)
        limit = int_param(request, "limit", DEFAULT_LIMIT, 1, self.config.page_limit)
        author = hex_param(request, "author")
        store_id = await self.store.store_id()
        top = await self.store.max_seq()
        rows = await self.store.events_after(
            after,
            limit,
            upto=top,
            circle=request.query.get("circle"),
            kind=request.query.get("kind"),
            author=author,
        )
        more = len(rows) == limit
        # Without more, every event up to `top` was looked at: the next page starts there.
        next_after = rows[-1].seq if more else max(after, top)
        events = [convert.stored_out(row, self._name_of) for row in rows]
        return reply(EventPage(store_id, events, next_after, more))

    async def event(self, request: web.Request) -> web.Response:
        try:
            event = await self.node.find_event(request.match_info["id"])
        except NodeError as exc:
            raise not_found(str(exc)) from exc
        row = await self.store.event_row(event.id)
        if row is None:
            raise not_found("that event is no longer held here")
        raw = request.query.get("raw", "false").lower() in ("1", "true", "yes")
        return reply(
            convert.event_out(
                event, self._name_of, received_at=row.received_at, seq=row.seq, raw=raw
            )
        )

    async def feed(self, request: web.Request) -> web.Response:
        limit = int_param(request, "limit", DEFAULT_LIMIT, 1, self.config.page_limit)
        before = cursor_param(request.query.get("before"))
        entries = await self.node.feed(request.query.get("channel"), limit=limit, before=before)
        cursor = cursor_text(entries[0].key) if len(entries) == limit else None
        return reply(FeedPage([convert.feed_item(entry) for entry in entries], cursor))

    async def post_event(self, request: web.Request) -> web.Response:
        async def act(body: bytes) -> Event:
            new = decode(body, NewEvent)
            refs = hex_refs(new.refs)
            return await self.node.publish(new.kind, circle=new.circle, body=new.body, refs=refs)

        return await self.publisher.handle(request, act)

    async def circles(self, request: web.Request) -> web.Response:
        known = await self.node.circles.known()
        briefs = [
            CircleBrief(c.slug, c.title, c.topic, c.members, c.member, c.updated_at) for c in known
        ]
        return reply(CircleList(briefs))

    async def circle(self, request: web.Request) -> web.Response:
        state = await self.node.circles.state(request.match_info["circle"])
        if not state.exists:
            raise not_found("there is no circle of that name here; see GET /v1/circles")
        upcoming = state.next_meeting(now_ms())
        return reply(
            CircleOut(
                circle=state.slug,
                title=state.title,
                topic=state.topic,
                description=state.description,
                members=[member.key.hex() for member in state.members],
                meetings=[convert.meeting_out(m, self._name_of) for m in state.meetings],
                next_meeting=convert.meeting_out(upcoming, self._name_of) if upcoming else None,
            )
        )

    async def connect(self, request: web.Request) -> web.Response:
        wanted = decode(await request.read(), ConnectRequest)
        return reply(convert.peer_out(await self.node.connect(wanted.host, wanted.port)))

    def _name_of(self, key: bytes) -> str:
        return self.node.profile_of(key).name


def reply(value: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=msgspec.json.encode(value), content_type=JSON)


def decode(body: bytes, kind: type[Any]) -> Any:
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.DecodeError as exc:
        raise bad_request(f"the request body does not fit: {exc}") from exc


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise bad_request(f"{name} must be a whole number from {low} to {high}")
    return value


def hex_param(request: web.Request, name: str) -> bytes | None:
    text = request.query.get(name)
    if text is None:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise bad_request(f"{name} must be a key in hex") from None


def hex_refs(refs: dict[str, str]) -> dict[str, bytes] | None:
    try:
        return {name: bytes.fromhex(target) for name, target in refs.items()} or None
    except ValueError:
        raise bad_request("every ref must be an event id in hex") from None


def cursor_text(key: ShownKey) -> str:
    shown, created, event_id = key
    return f"{shown}.{created}.{event_id.hex()}"


def cursor_param(text: str | None) -> ShownKey | None:
    if text is None:
        return None
    try:
        shown, created, event_id = text.split(".")
        key = int(shown), int(created), bytes.fromhex(event_id)
    except ValueError:
        key = (-1, 0, b"")
    if not all(0 <= number < 2**63 for number in key[:2]):  # SQLite's integers
        raise bad_request("before must be a cursor from an earlier page")
    return key
