"""Messages of the bulk path: msgpack arrays ``[type, request, ...fields]``, strictly checked.

The requester asks (Ask, Watch, GetHashes, GetChunk, Cancel); the server answers each
request with Have, Hashes, Pieces or Refused, and sends nothing unasked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final, TypeAlias

from protocol.codec import pack, unpack
from protocol.errors import DecodeError
from protocol.files.blob import BLOB_ID_BYTES, HASH_BYTES, MAX_CHUNKS, check_blob_id

FILES_SPEC_MINOR: Final = 1
"""The spec minor version that brought files: the bulk path is dialled only to peers that
announced it (or a later one); a 1.0 node is never asked."""
BULK_MINOR: Final = 1
"""The bulk path's minor version this node speaks, announced as `bulk` in the handshake
info of its bulk links (none announced: 0). 1 adds large frames and Watch."""
BULK_INFO_KEY: Final = "bulk"
SMALL_FRAME_BYTES: Final = 65_519
"""Bulk 1.0: one message is one frame of the secure channel (its default plaintext limit)."""
PIECE_BYTES: Final = 63 * 1024
"""Bulk 1.0: the most data in one Piece, so that with its header it fits a small frame."""
LARGE_PIECE_BYTES: Final = 1024 * 1024
"""Bulk 1.1: the most data in one Piece sent to an asker that announced bulk minor 1."""
MAX_BULK_MESSAGE: Final = LARGE_PIECE_BYTES + 1024
"""Bulk 1.1: the largest frame plaintext on a bulk link (a large Piece and its header)."""
MAX_REQUEST: Final = 2**32 - 1
MAX_SIZE: Final = 2**53 - 1
MAX_BITFIELD_BYTES: Final = 8 * 1024
MAX_HASH_LIST_BYTES: Final = MAX_CHUNKS * HASH_BYTES
MAX_INDEX: Final = 2**20


class BulkType(IntEnum):
    ASK = 1
    HAVE = 2
    GET_HASHES = 3
    HASHES = 4
    GET_CHUNK = 5
    PIECE = 6
    CANCEL = 7
    REFUSED = 8
    WATCH = 9


class Holding(IntEnum):
    """How much of a blob the server holds."""

    NONE = 0
    PARTIAL = 1
    FULL = 2


class Refusal(IntEnum):
    """Why a request gets no data."""

    MISSING = 0
    """The server does not hold it (any more)."""
    BUSY = 1
    """The server serves as many requests as it will; ask again later or elsewhere."""


@dataclass(frozen=True, slots=True)
class Ask:
    """Do you hold this blob, and which chunks?"""

    request: int
    blob: bytes


@dataclass(frozen=True, slots=True)
class Have:
    """bitfield: the chunks held when PARTIAL (one bit per chunk), else empty."""

    request: int
    holding: Holding
    bitfield: bytes


@dataclass(frozen=True, slots=True)
class Watch:
    """Bulk 1.1: answer with Have now, and again as more chunks become durable (batched),
    until the blob is whole (a FULL Have ends it) or the asker cancels."""

    request: int
    blob: bytes


@dataclass(frozen=True, slots=True)
class GetHashes:
    request: int
    blob: bytes


@dataclass(frozen=True, slots=True)
class Hashes:
    """The blob's size, chunk size and hash list: checked against the id it was asked for."""

    request: int
    size: int
    chunk_size: int
    hash_list: bytes


@dataclass(frozen=True, slots=True)
class GetChunk:
    request: int
    blob: bytes
    index: int


@dataclass(frozen=True, slots=True)
class Piece:
    """Part of a requested chunk, at `offset` inside the chunk; pieces come in order."""

    request: int
    offset: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop answering this request; pieces already sent may still arrive."""

    request: int


@dataclass(frozen=True, slots=True)
class Refused:
    request: int
    reason: Refusal


BulkMessage: TypeAlias = (
    Ask | Watch | Have | GetHashes | Hashes | GetChunk | Piece | Cancel | Refused
)
REQUESTS: Final = (Ask, Watch, GetHashes, GetChunk, Cancel)
"""What a requester sends; the rest only a server sends."""


def encode(message: BulkMessage) -> bytes:
    return pack([_TYPES[type(message)], *_fields(message)])


def _fields(message: BulkMessage) -> list[Any]:
    match message:
        case Ask(request, blob) | Watch(request, blob) | GetHashes(request, blob):
            return [request, blob]
        case Have(request, holding, bitfield):
            return [request, int(holding), bitfield]
        case Hashes(request, size, chunk_size, hash_list):
            return [request, size, chunk_size, hash_list]
        case GetChunk(request, blob, index):
            return [request, blob, index]
        case Piece(request, offset, data):
            return [request, offset, data]
        case Cancel(request):
            return [request]
        case Refused(request, reason):
            return [request, int(reason)]
    raise TypeError(message)  # pragma: no cover - the match is exhaustive


def decode(data: bytes) -> BulkMessage:
    """One message from the wire, or DecodeError naming what is wrong."""
    value = unpack(data, max_bytes=MAX_BULK_MESSAGE, max_array_len=8, max_depth=2)
    if not isinstance(value, list) or len(value) < 2:
        raise DecodeError("a bulk message is [type, request, ...]")
    try:
        kind = BulkType(value[0])
    except (ValueError, TypeError):
        raise DecodeError(f"unknown bulk message type {value[0]!r}") from None
    count, parse = _PARSERS[kind]
    if len(value) != 2 + count:
        raise DecodeError(f"{kind.name} has {1 + count} fields")
    request = _int(value[1], "request", MAX_REQUEST)
    return parse(request, value[2:])


def _int(value: object, what: str, most: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= most:
        raise DecodeError(f"{what} must be an integer in 0..{most}")
    return value


def _bytes(value: object, what: str, most: int) -> bytes:
    if not isinstance(value, bytes) or len(value) > most:
        raise DecodeError(f"{what} must be at most {most} bytes")
    return value


def _blob(value: object) -> bytes:
    blob = _bytes(value, "blob", BLOB_ID_BYTES)
    try:
        return check_blob_id(blob)
    except Exception as exc:
        raise DecodeError(str(exc)) from None


def _enum(value: object, enum: type[Holding] | type[Refusal], what: str) -> Any:
    try:
        return enum(_int(value, what, 255))
    except ValueError:
        raise DecodeError(f"unknown {what} {value!r}") from None


_Parser: TypeAlias = Callable[[int, list[Any]], BulkMessage]

_PARSERS: Final[dict[BulkType, tuple[int, _Parser]]] = {
    BulkType.ASK: (1, lambda r, f: Ask(r, _blob(f[0]))),
    BulkType.HAVE: (
        2,
        lambda r, f: Have(
            r, _enum(f[0], Holding, "holding"), _bytes(f[1], "bitfield", MAX_BITFIELD_BYTES)
        ),
    ),
    BulkType.GET_HASHES: (1, lambda r, f: GetHashes(r, _blob(f[0]))),
    BulkType.HASHES: (
        3,
        lambda r, f: Hashes(
            r,
            _int(f[0], "size", MAX_SIZE),
            _int(f[1], "chunk_size", MAX_SIZE),
            _bytes(f[2], "hash_list", MAX_HASH_LIST_BYTES),
        ),
    ),
    BulkType.GET_CHUNK: (2, lambda r, f: GetChunk(r, _blob(f[0]), _int(f[1], "index", MAX_INDEX))),
    BulkType.PIECE: (
        2,
        lambda r, f: Piece(
            r, _int(f[0], "offset", MAX_SIZE), _bytes(f[1], "data", LARGE_PIECE_BYTES)
        ),
    ),
    BulkType.CANCEL: (0, lambda r, f: Cancel(r)),
    BulkType.REFUSED: (1, lambda r, f: Refused(r, _enum(f[0], Refusal, "reason"))),
    BulkType.WATCH: (1, lambda r, f: Watch(r, _blob(f[0]))),
}

_TYPES: Final[dict[type, BulkType]] = {
    Ask: BulkType.ASK,
    Have: BulkType.HAVE,
    GetHashes: BulkType.GET_HASHES,
    Hashes: BulkType.HASHES,
    GetChunk: BulkType.GET_CHUNK,
    Piece: BulkType.PIECE,
    Cancel: BulkType.CANCEL,
    Refused: BulkType.REFUSED,
    Watch: BulkType.WATCH,
}


def bulk_minor(info: Mapping[str, object]) -> int:
    """The bulk minor version a peer announced in its bulk link's handshake info."""
    minor = info.get(BULK_INFO_KEY)
    return minor if isinstance(minor, int) and not isinstance(minor, bool) and minor > 0 else 0


def piece_bytes_for(minor: int) -> int:
    """The largest Piece an asker of bulk minor `minor` accepts."""
    return LARGE_PIECE_BYTES if minor >= 1 else PIECE_BYTES
