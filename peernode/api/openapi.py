"""The OpenAPI 3.1 document of /v1, generated from the route table and the typed models.

`python -m peernode.api.openapi docs/api/openapi.json` writes the committed copy; a
test checks that copy is current.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Final, cast

import msgspec

from peernode.api.circle_routes import every_route
from peernode.api.config import ApiConfig
from peernode.api.idempotency import KeyBook
from peernode.api.models import API_VERSION, ErrorBody, Published, StreamMessage, Subscribe
from peernode.api.port import ApiNode
from peernode.api.routes import Param, Route
from peernode.storage import AsyncStore

REF: Final = "#/components/schemas/{name}"
ERRORS: Final = {
    "400": "The request does not fit (a parameter or the body)",
    "401": "No token, or a token not known here",
    "403": "The token may not do this, or the Host or Origin is not allowed",
    "404": "Nothing of that id or name",
    "409": "Refused as the node stands (no identity yet, an idempotency key reused)",
    "429": "The token posts too fast",
    "503": "The store cannot write (disk full, read-only, damaged)",
}
STREAM: Final = (
    "A WebSocket. Send one Subscribe message (after_seq and an optional filter); the"
    " server answers StreamHello, then a StreamEvent for every matching event stored"
    " after after_seq, in seq order, then StreamLive once the replay is over, then live"
    " StreamEvents with no gap. A client that falls behind gets StreamOverflow with the"
    " seq to resume after, and the stream closes. A browser, which cannot send headers"
    " on a WebSocket, offers the subprotocols 'peernode.v1' and 'bearer.TOKEN' instead."
)
_DEFAULTS: Final = ApiConfig()
KEY_TEXT: Final = (
    f"the same key, path and body again (within the token's last"
    f" {_DEFAULTS.idempotency_keys:,} keys of {_DEFAULTS.idempotency_hours:g} hours, also"
    " after a restart): the first answer, nothing posted twice"
)
_TYPES: Final = {int: "integer", str: "string", bool: "boolean"}


def routes() -> list[Route]:
    """The route table, with handlers that are never called."""
    return every_route(
        cast(ApiNode, None), cast(AsyncStore, None), ApiConfig(), cast(KeyBook, None)
    )


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    table = routes()
    models: set[Any] = {route.response for route in table}
    models |= {r.request for r in table if r.request} | {ErrorBody, Subscribe, StreamMessage}
    _, schemas = msgspec.json.schema_components(
        sorted(models, key=lambda model: getattr(model, "__name__", str(model))),
        ref_template=REF,
    )
    paths: dict[str, dict[str, Any]] = {}
    for route in table:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    paths["/v1/stream"] = {"get": _stream_operation()}
    paths["/v1/openapi.json"] = {
        "get": {
            "summary": "This document",
            "operationId": "openapi",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI document"}},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "peernode local API",
            "version": API_VERSION,
            "description": "Loopback only; see docs/api.md. Additive only within /v1.",
        },
        "servers": [
            {
                "url": "http://127.0.0.1:{port}",
                "variables": {"port": {"default": "0", "description": "peernode api url"}},
            }
        ],
        "security": [{"bearer": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def text() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def _operation(route: Route) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": route.handler.__name__,
        "x-scope": route.scope,
        "responses": {
            str(route.status): {"description": "Done", "content": _json(route.response)},
            **{
                code: {"description": text, "content": _json(ErrorBody)}
                for code, text in ERRORS.items()
            },
        },
    }
    if route.params:
        operation["parameters"] = [_parameter(param) for param in route.params]
    if route.request is not None:
        operation["requestBody"] = {"required": True, "content": _json(route.request)}
    if route.response is Published:  # a write through the Publisher, which keeps keys
        operation["parameters"] = [
            *operation.get("parameters", []),
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 200},
                "description": KEY_TEXT,
            },
        ]
    return operation


def _stream_operation() -> dict[str, Any]:
    return {
        "summary": "Events replayed after a seq, then live (WebSocket)",
        "operationId": "stream",
        "x-scope": "read",
        "description": STREAM,
        "responses": {
            "101": {"description": "Switching to the WebSocket"},
            "401": {"description": ERRORS["401"], "content": _json(ErrorBody)},
            "403": {"description": ERRORS["403"], "content": _json(ErrorBody)},
            "429": {"description": "Too many streams are open", "content": _json(ErrorBody)},
        },
    }


def _parameter(param: Param) -> dict[str, Any]:
    return {
        "name": param.name,
        "in": param.where,
        "required": param.where == "path",
        "description": param.description,
        "schema": {"type": _TYPES[param.kind], **dict(param.rules)},
    }


def _json(model: Any) -> dict[str, Any]:
    name = getattr(model, "__name__", None)
    return {"application/json": {"schema": {"$ref": REF.format(name=name)}}}


if __name__ == "__main__":
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        out.write(text())
