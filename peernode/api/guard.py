"""The checks every request passes first: a loopback Host, a token, an allowed Origin, a scope.

Rules of this file:
- The Host check comes first, for every path: a web page whose name an attacker
  points at 127.0.0.1 (DNS rebinding) sends its own host name, and is refused here.
- No CORS unless a token names the page's origin (`--origin`); a preflight, which
  carries no token, is answered only for an origin some token names.
- 401 says the token is missing or unknown; 403 says it is known but may not do this
  (scope), or is used from an origin, or sent to a host, that is not allowed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

from peernode.api.errors import ApiError
from peernode.api.tokens import Token, TokenBook

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
PUBLIC_PATHS: Final = frozenset({"/v1/openapi.json"})
ALLOWED_HEADERS: Final = "Authorization, Content-Type, Idempotency-Key"
BEARER_PROTOCOL: Final = "bearer."
STREAM_PROTOCOL: Final = "peernode.v1"
"""The subprotocol the stream answers with when a browser offers its token as one."""
TOKEN_KEY: Final = web.RequestKey("peernode_api_token", Token)


def host_of(header: str) -> str:
    """The host of a Host header, without its port ('[::1]:8080' -> '[::1]')."""
    if header.startswith("["):
        return header[: header.find("]") + 1] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def guard(tokens: TokenBook, scope_of: Callable[[web.Request], str | None]) -> Middleware:
    """The middleware: `scope_of` tells which scope the matched route needs."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if host_of(request.headers.get(hdrs.HOST, "")).lower() not in LOOPBACK_HOSTS:
            raise ApiError(
                403, "bad_host", "the API answers only requests addressed to 127.0.0.1 or ::1"
            )
        origin = request.headers.get(hdrs.ORIGIN)
        if request.method == hdrs.METH_OPTIONS:
            return _preflight(origin, tokens.allowed_origins())
        if request.path in PUBLIC_PATHS:
            return await handler(request)
        token = _authenticate(request, tokens)
        if origin is not None and origin not in token.origins:
            raise ApiError(
                403, "bad_origin", f"this token may not be used from the web page at {origin}"
            )
        scope = scope_of(request)
        if scope is not None and not token.allows(scope):
            raise ApiError(
                403,
                "wrong_scope",
                f"this token may not {_DOING[scope]}; make one with --scope {scope}",
            )
        request[TOKEN_KEY] = token
        response = await handler(request)
        if origin is not None and not response.prepared:  # a stream's headers are long sent
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
            response.headers[hdrs.VARY] = hdrs.ORIGIN
        return response

    return middleware


_DOING: Final = {
    "read": "read",
    "post": "publish events",
    "files": "handle files",
    "admin": "change the node's settings",
}


def _authenticate(request: web.Request, tokens: TokenBook) -> Token:
    header = request.headers.get(hdrs.AUTHORIZATION, "")
    scheme, _, secret = header.partition(" ")
    if not header and (offered := _protocol_token(request)):
        scheme, secret = "bearer", offered
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(
            401,
            "missing_token",
            "send a token as 'Authorization: Bearer TOKEN'; make one with"
            " 'peernode api token add NAME'",
        )
    token = tokens.find(secret.strip())
    if token is None:  # looked up by the secret's hash: no timing tells a secret's start
        raise ApiError(
            401, "bad_token", "this token is not known here; see 'peernode api token list'"
        )
    return token


def _protocol_token(request: web.Request) -> str:
    """The token a browser's WebSocket offers as the subprotocol 'bearer.TOKEN' (it cannot
    send headers), or ''."""
    for item in request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL, "").split(","):
        if item.strip().startswith(BEARER_PROTOCOL):
            return item.strip()[len(BEARER_PROTOCOL) :]
    return ""


def _preflight(origin: str | None, allowed: frozenset[str]) -> web.Response:
    if origin is None or origin not in allowed:
        raise ApiError(403, "bad_origin", "no token may be used from this web page")
    return web.Response(
        status=204,
        headers={
            hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: origin,
            hdrs.ACCESS_CONTROL_ALLOW_HEADERS: ALLOWED_HEADERS,
            hdrs.ACCESS_CONTROL_ALLOW_METHODS: "GET, POST",
            hdrs.VARY: hdrs.ORIGIN,
        },
    )
