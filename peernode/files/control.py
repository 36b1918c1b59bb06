"""What a running node serves to CLI commands about files (through net/control.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from peernode.errors import BadInput
from peernode.files.service import FileService

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


def file_handlers(files: FileService) -> dict[str, Handler]:
    """`file_get` starts a fetch in the node and returns its status; `file_status` polls it;
    `file_holders` counts the linked laptops that hold a file."""

    def ref_of(args: dict[str, Any]) -> str:
        ref = args.get("id")
        if not isinstance(ref, str):
            raise BadInput("which file? give its id")
        return ref

    async def get(args: dict[str, Any]) -> Any:
        in_order = args.get("in_order") is True
        return (await files.start_get(ref_of(args), in_order=in_order)).to_json()

    async def status(args: dict[str, Any]) -> Any:
        return (await files.fetch_status(ref_of(args))).to_json()

    async def holders(args: dict[str, Any]) -> Any:
        return {"holders": await files.holders(ref_of(args))}

    return {"file_get": get, "file_status": status, "file_holders": holders}
