"""API errors: an HTTP status, a machine code and one plain sentence."""

from __future__ import annotations

from typing import Final

import msgspec
from aiohttp import web

from peernode.api.models import ErrorBody, ErrorDetail

JSON: Final = "application/json"


class ApiError(Exception):
    """Ends a request with `status` and the body {"error": {"code", "message"}}."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self, headers: dict[str, str] | None = None) -> web.Response:
        return error_response(self.status, self.code, self.message, headers)


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = msgspec.json.encode(ErrorBody(ErrorDetail(code, message)))
    return web.Response(status=status, body=body, content_type=JSON, headers=headers)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)
