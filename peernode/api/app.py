"""The aiohttp application of the API: routes, the guard, and errors as JSON."""

from __future__ import annotations

import logging
from typing import Any, Final

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

from peernode.api.circle_routes import every_route
from peernode.api.config import ApiConfig
from peernode.api.errors import JSON, ApiError, bad_request, error_response
from peernode.api.guard import Handler, guard
from peernode.api.idempotency import KeyBook
from peernode.api.openapi import text as openapi_text
from peernode.api.port import ApiNode
from peernode.api.stream import Streams
from peernode.api.tokens import TokenBook
from peernode.errors import BadInput, NodeError, StorageError
from peernode.storage import AsyncStore

log = logging.getLogger(__name__)

MAX_REQUEST: Final = 256 * 1024
"""The largest request body taken (an event is far smaller)."""
_HTTP_CODES: Final = {404: "not_found", 405: "bad_method", 413: "too_large"}


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as {"error": {"code", "message"}}, with one plain sentence."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except BadInput as exc:
        return error_response(400, "bad_request", str(exc))
    except StorageError as exc:
        return error_response(503, "storage", str(exc))
    except NodeError as exc:
        return error_response(409, "refused", str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        # Keep what the status needs (Allow on a 405), not the old body's type.
        kept = {name: value for name, value in exc.headers.items() if name != hdrs.CONTENT_TYPE}
        message = f"{exc.reason.lower()}: see GET /v1/openapi.json"
        return error_response(exc.status, code, message, kept)


def known_query(allowed: dict[Any, frozenset[str]]) -> Middleware:
    """Refuse a query parameter the route does not know: a filter ignored would answer
    something else than what was asked (a newer client on an older node)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        names = allowed.get(request.match_info.route.handler)
        if names is not None and (unknown := set(request.query) - names):
            raise bad_request(
                f"{sorted(unknown)[0]!r} is not a parameter here; see GET /v1/openapi.json"
            )
        return await handler(request)

    return middleware


def build_app(
    node: ApiNode, store: AsyncStore, tokens: TokenBook, config: ApiConfig, keys: KeyBook
) -> tuple[web.Application, Streams]:
    """The app serving /v1 for `node`; its Streams, to close them when the node stops."""
    streams = Streams(node, store, config)
    table = every_route(node, store, config, keys)
    scopes: dict[object, str | None] = {route.handler: route.scope for route in table}
    scopes[streams.handle] = "read"
    queries = {
        route.handler: frozenset(p.name for p in route.params if p.where == "query")
        for route in table
    }
    queries[streams.handle] = frozenset()

    def scope_of(request: web.Request) -> str | None:
        return scopes.get(request.match_info.route.handler)  # none: a 404 or 405

    app = web.Application(
        client_max_size=MAX_REQUEST,
        middlewares=[errors, guard(tokens, scope_of), known_query(queries)],
    )
    for route in table:
        app.router.add_route(route.method, route.path, route.handler)
    app.router.add_get("/v1/stream", streams.handle)
    document = openapi_text().encode()

    async def openapi(request: web.Request) -> web.Response:
        return web.Response(body=document, content_type=JSON)

    app.router.add_get("/v1/openapi.json", openapi)
    return app, streams
