"""Files shared with circles over HTTP: list them, see a fetch, start one, share by path.

Rules of this file:
- Reading what is shared is `read` (the file events are in /v1/events already);
  fetching is `files`: it spends disk and bandwidth.
- Sharing by path makes the node read a local file and send it to every peer of the
  circle, so it needs `admin` and is refused to web pages (any request with an
  Origin): a page holding a token must never make the node read arbitrary paths.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
from aiohttp import hdrs, web

from peernode.api.errors import ApiError, bad_request, not_found
from peernode.api.learning_models import FetchOut, FileList, FileOut, NewFetch, NewShare
from peernode.api.models import Published
from peernode.api.port import ApiNode
from peernode.api.publishing import Publisher
from peernode.api.routes import ID, Param, Route, decode, reply
from peernode.errors import NodeError
from peernode.files import SharedFile
from peernode.files.model import FetchStatus
from protocol.event import Event

CIRCLE = Param("circle", str, "the circle's slug", "path")
FILE = Param("id", str, "the file event's id (or 8+ leading hex digits)", "path", ID)


class FileEndpoints:
    """Handlers of the file actions; sharing goes through the shared Publisher."""

    def __init__(self, node: ApiNode, publisher: Publisher) -> None:
        self.node = node
        self.publisher = publisher

    def routes(self) -> list[Route]:
        return [
            Route(
                "GET", "/v1/circles/{circle}/files", "read", "The files shared with a circle",
                self.files, FileList, params=(CIRCLE,),
            ),
            Route(
                "POST", "/v1/circles/{circle}/files", "admin",
                "Share the file or folder at a local path (admin; never from a web page)",
                self.share, Published, request=NewShare, params=(CIRCLE,), status=201,
            ),
            Route(
                "GET", "/v1/files/{id}", "read", "A shared file and where its fetch stands",
                self.file, FetchOut, params=(FILE,),
            ),
            Route(
                "POST", "/v1/files/{id}/fetch", "files",
                "Fetch a shared file in the background (joins a fetch under way)",
                self.fetch, FetchOut, request=NewFetch, params=(FILE,), status=202,
            ),
        ]  # fmt: skip

    async def files(self, request: web.Request) -> web.Response:
        shared = await self.node.files.list(request.match_info["circle"])
        return reply(FileList([file_out(one) for one in shared]))

    async def file(self, request: web.Request) -> web.Response:
        try:
            status = await self.node.files.fetch_status(request.match_info["id"])
        except NodeError as exc:
            raise not_found(str(exc)) from exc
        return reply(fetch_out(status))

    async def fetch(self, request: web.Request) -> web.Response:
        wanted = decode(await request.read() or b"{}", NewFetch)
        try:
            shared = await self.node.files.find(request.match_info["id"])
        except NodeError as exc:
            raise not_found(str(exc)) from exc
        status = await self.node.files.start_get(shared.id, in_order=wanted.in_order)
        return reply(fetch_out(status), 202)

    async def share(self, request: web.Request) -> web.Response:
        if request.headers.get(hdrs.ORIGIN) is not None:
            raise ApiError(
                403, "bad_origin", "a web page may not share files by path; share it in peernode"
            )

        async def act(body: bytes) -> Event:
            new = decode(body, NewShare)
            path = Path(new.path)
            if not path.is_absolute():
                raise bad_request("path must be absolute (the node does not run where you do)")
            fields = {"title": new.title, "description": new.description, "licence": new.licence}
            slug = request.match_info["circle"]
            shared = await self.node.files.share(path, slug, tags=new.tags, **fields)
            return shared.event

        return await self.publisher.handle(request, act)


def file_out(shared: SharedFile) -> FileOut:
    return msgspec.convert(shared.to_json(), FileOut)


def fetch_out(status: FetchStatus) -> FetchOut:
    return msgspec.convert(status.to_json(), FetchOut)
