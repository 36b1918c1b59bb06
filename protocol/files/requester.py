"""The requesting side of one bulk link: numbers requests and checks every answer.

Rules of this file:
- Data is only ever accepted for a request this side made: anything else is a
  RemoteProtocolError (the link is then closed).
- A chunk's pieces come in order, without gaps, and never past the chunk's length.
- After a Cancel, what the server had already sent may still arrive: it is dropped
  quietly, for the last `remember_cancelled` cancelled requests.
- A Watch stays open through PARTIAL Haves; a FULL or NONE Have (or a Refused) ends it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from protocol.errors import LocalProtocolError, RemoteProtocolError
from protocol.files.messages import (
    REQUESTS,
    Ask,
    BulkMessage,
    Cancel,
    GetChunk,
    GetHashes,
    Hashes,
    Have,
    Holding,
    Piece,
    Refused,
    Watch,
    decode,
    encode,
)


class _Wants(Enum):
    HAVE = "have"
    WATCH = "watch"
    HASHES = "hashes"
    CHUNK = "chunk"


@dataclass(slots=True)
class _Pending:
    wants: _Wants
    length: int = 0
    received: bytearray | None = None


@dataclass(frozen=True, slots=True)
class ChunkReply:
    """A whole chunk as received (not yet verified: that needs the hash list)."""

    request: int
    data: bytes


Reply = Have | Hashes | ChunkReply | Refused


class Requester:
    """Builds requests and turns the server's messages into replies."""

    def __init__(self, *, remember_cancelled: int = 1024) -> None:
        self._next = 1
        self._pending: dict[int, _Pending] = {}
        self._cancelled: OrderedDict[int, None] = OrderedDict()
        self._remember = remember_cancelled

    def ask(self, blob: bytes) -> tuple[int, bytes]:
        return self._request(_Pending(_Wants.HAVE), lambda r: Ask(r, blob))

    def watch(self, blob: bytes) -> tuple[int, bytes]:
        """Bulk 1.1: what the server holds of `blob` now, and as it gains more."""
        return self._request(_Pending(_Wants.WATCH), lambda r: Watch(r, blob))

    def get_hashes(self, blob: bytes) -> tuple[int, bytes]:
        return self._request(_Pending(_Wants.HASHES), lambda r: GetHashes(r, blob))

    def get_chunk(self, blob: bytes, index: int, length: int) -> tuple[int, bytes]:
        """Ask for chunk `index`, whose `length` the hash list gave."""
        if length <= 0:
            raise LocalProtocolError("a chunk to request has at least one byte")
        pending = _Pending(_Wants.CHUNK, length, bytearray())
        return self._request(pending, lambda r: GetChunk(r, blob, index))

    def cancel(self, request: int) -> bytes | None:
        """Stop a request; None if it was already answered."""
        if self._pending.pop(request, None) is None:
            return None
        self._cancelled[request] = None
        while len(self._cancelled) > self._remember:
            self._cancelled.popitem(last=False)
        return encode(Cancel(request))

    @property
    def outstanding(self) -> int:
        return len(self._pending)

    def _request(self, pending: _Pending, make: Callable[[int], BulkMessage]) -> tuple[int, bytes]:
        request = self._next
        self._next += 1
        self._pending[request] = pending
        return request, encode(make(request))

    def receive(self, data: bytes) -> Reply | None:
        """The reply `data` completes, None while a chunk is still arriving (or dropped)."""
        message = decode(data)
        if isinstance(message, REQUESTS):
            raise RemoteProtocolError(f"the server sent a request ({type(message).__name__})")
        pending = self._pending.get(message.request)
        if pending is None:
            if message.request in self._cancelled:
                return None
            raise RemoteProtocolError(f"an answer to request {message.request}, never asked")
        return self._answer(message, pending)

    def _answer(self, message: BulkMessage, pending: _Pending) -> Reply | None:
        if isinstance(message, Refused):
            del self._pending[message.request]
            return message
        if isinstance(message, Have) and pending.wants is _Wants.HAVE:
            del self._pending[message.request]
            return message
        if isinstance(message, Have) and pending.wants is _Wants.WATCH:
            if message.holding is not Holding.PARTIAL:
                del self._pending[message.request]
            return message
        if isinstance(message, Hashes) and pending.wants is _Wants.HASHES:
            del self._pending[message.request]
            return message
        if isinstance(message, Piece) and pending.wants is _Wants.CHUNK:
            return self._piece(message, pending)
        raise RemoteProtocolError(f"{type(message).__name__} answers a {pending.wants.value} ask")

    def _piece(self, piece: Piece, pending: _Pending) -> ChunkReply | None:
        received = pending.received
        assert received is not None
        if not piece.data or piece.offset != len(received):
            raise RemoteProtocolError(f"a piece at {piece.offset}, expected {len(received)}")
        if len(received) + len(piece.data) > pending.length:
            raise RemoteProtocolError("a piece runs past the end of its chunk")
        if len(piece.data) == pending.length:  # the whole chunk in one piece: no copy
            del self._pending[piece.request]
            return ChunkReply(piece.request, piece.data)
        received += piece.data
        if len(received) < pending.length:
            return None
        del self._pending[piece.request]
        return ChunkReply(piece.request, bytes(received))


def pieces(request: int, chunk: bytes, piece_bytes: int) -> list[bytes]:
    """A chunk's answer: Piece messages of at most `piece_bytes` each, in order."""
    if len(chunk) <= piece_bytes:
        return [encode(Piece(request, 0, chunk))]
    view = memoryview(chunk)
    return [
        encode(Piece(request, offset, bytes(view[offset : offset + piece_bytes])))
        for offset in range(0, len(chunk), piece_bytes)
    ]
