"""The bulk path's messages and the requesting side's checks (messages.py, requester.py)."""

from __future__ import annotations

import pytest

from protocol.codec import pack
from protocol.errors import DecodeError, RemoteProtocolError
from protocol.files import ChunkReply, Requester, layout_of, pieces
from protocol.files.messages import (
    BULK_MINOR,
    LARGE_PIECE_BYTES,
    MAX_BULK_MESSAGE,
    PIECE_BYTES,
    SMALL_FRAME_BYTES,
    Ask,
    Cancel,
    GetChunk,
    GetHashes,
    Hashes,
    Have,
    Holding,
    Piece,
    Refusal,
    Refused,
    Watch,
    bulk_minor,
    decode,
    encode,
    piece_bytes_for,
)

BLOB = layout_of(b"hello").id
CHUNK = bytes(range(256)) * 600  # 153,600 bytes: three pieces


@pytest.mark.parametrize(
    "message",
    [
        Ask(1, BLOB),
        Have(2, Holding.PARTIAL, b"\xf0"),
        GetHashes(3, BLOB),
        Hashes(4, 5, 262144, bytes(32)),
        GetChunk(5, BLOB, 7),
        Piece(6, 0, b"data"),
        Cancel(7),
        Refused(8, Refusal.BUSY),
        Watch(9, BLOB),
    ],
)
def test_every_message_round_trips(message: object) -> None:
    assert decode(encode(message)) == message  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        [99, 1],
        [1, 1],
        [1, -1, BLOB],
        [1, 1, BLOB[:-1]],
        [2, 1, 5, b""],
        [6, 1, 0, b"x" * (LARGE_PIECE_BYTES + 1)],
        [9, 1],
        [5, 1, BLOB, True],
        "not a list",
    ],
)
def test_malformed_messages_are_refused(value: object) -> None:
    with pytest.raises(DecodeError):
        decode(pack(value))


def test_a_piece_always_fits_the_frame_of_its_asker() -> None:
    assert len(encode(Piece(2**32 - 1, 2**40, b"x" * PIECE_BYTES))) <= SMALL_FRAME_BYTES
    assert len(encode(Piece(2**32 - 1, 2**40, b"x" * LARGE_PIECE_BYTES))) <= MAX_BULK_MESSAGE


@pytest.mark.parametrize(
    ("info", "minor", "largest"),
    [
        ({}, 0, PIECE_BYTES),
        ({"bulk": True}, 0, PIECE_BYTES),
        ({"bulk": "1"}, 0, PIECE_BYTES),
        ({"bulk": -3}, 0, PIECE_BYTES),
        ({"bulk": BULK_MINOR}, 1, LARGE_PIECE_BYTES),
        ({"bulk": 7}, 7, LARGE_PIECE_BYTES),
    ],
)
def test_large_pieces_go_only_to_an_asker_that_announced_bulk_1_1(
    info: dict[str, object], minor: int, largest: int
) -> None:
    assert bulk_minor(info) == minor
    assert piece_bytes_for(bulk_minor(info)) == largest


def test_a_chunk_in_one_piece_is_handed_over_as_it_came() -> None:
    requester = Requester()
    request, _ = requester.get_chunk(BLOB, 0, len(CHUNK))
    [piece] = pieces(request, CHUNK, LARGE_PIECE_BYTES)
    assert requester.receive(piece) == ChunkReply(request, CHUNK)
    assert requester.outstanding == 0


def test_a_watch_stays_open_through_partial_haves_and_ends_when_whole() -> None:
    requester = Requester()
    request, sent = requester.watch(BLOB)
    assert decode(sent) == Watch(request, BLOB)
    for bits in (b"\x80", b"\xc0"):
        assert requester.receive(encode(Have(request, Holding.PARTIAL, bits))) == Have(
            request, Holding.PARTIAL, bits
        )
        assert requester.outstanding == 1
    assert requester.receive(encode(Have(request, Holding.FULL, b""))) is not None
    assert requester.outstanding == 0
    with pytest.raises(RemoteProtocolError, match="never asked"):
        requester.receive(encode(Have(request, Holding.PARTIAL, b"\xe0")))


def test_a_cancelled_watch_drops_what_was_already_sent() -> None:
    requester = Requester()
    request, _ = requester.watch(BLOB)
    assert decode(requester.cancel(request) or b"") == Cancel(request)
    assert requester.receive(encode(Have(request, Holding.PARTIAL, b"\x80"))) is None


def test_a_chunk_arrives_in_pieces_and_is_handed_over_whole() -> None:
    requester = Requester()
    request, sent = requester.get_chunk(BLOB, 3, len(CHUNK))
    assert decode(sent) == GetChunk(request, BLOB, 3)
    replies = [requester.receive(piece) for piece in pieces(request, CHUNK, PIECE_BYTES)]
    assert replies[:-1] == [None] * (len(replies) - 1)
    assert replies[-1] == ChunkReply(request, CHUNK)
    assert requester.outstanding == 0


def test_data_never_asked_for_is_a_protocol_error() -> None:
    requester = Requester()
    with pytest.raises(RemoteProtocolError, match="never asked"):
        requester.receive(encode(Piece(1, 0, b"surprise")))
    request, _ = requester.get_hashes(BLOB)
    with pytest.raises(RemoteProtocolError, match="answers a hashes ask"):
        requester.receive(encode(Piece(request, 0, b"x")))


def test_pieces_out_of_order_or_past_the_chunk_are_refused() -> None:
    requester = Requester()
    request, _ = requester.get_chunk(BLOB, 0, 10)
    with pytest.raises(RemoteProtocolError):
        requester.receive(encode(Piece(request, 4, b"abc")))
    request, _ = requester.get_chunk(BLOB, 0, 10)
    assert requester.receive(encode(Piece(request, 0, b"abcdefgh"))) is None
    with pytest.raises(RemoteProtocolError):
        requester.receive(encode(Piece(request, 8, b"xyz")))


def test_pieces_of_a_cancelled_request_are_dropped_quietly() -> None:
    requester = Requester()
    request, _ = requester.get_chunk(BLOB, 0, 10)
    assert decode(requester.cancel(request) or b"") == Cancel(request)
    assert requester.receive(encode(Piece(request, 0, b"abc"))) is None
    assert requester.cancel(request) is None


def test_a_server_must_not_send_requests() -> None:
    with pytest.raises(RemoteProtocolError, match="request"):
        Requester().receive(encode(Ask(1, BLOB)))


def test_have_hashes_and_refusals_answer_their_requests() -> None:
    requester = Requester()
    ask, _ = requester.ask(BLOB)
    hashes, _ = requester.get_hashes(BLOB)
    chunk, _ = requester.get_chunk(BLOB, 0, 5)
    assert requester.receive(encode(Have(ask, Holding.FULL, b""))) == Have(ask, Holding.FULL, b"")
    reply = requester.receive(encode(Hashes(hashes, 5, 1024, bytes(32))))
    assert isinstance(reply, Hashes)
    assert requester.receive(encode(Refused(chunk, Refusal.MISSING))) == Refused(
        chunk, Refusal.MISSING
    )
    with pytest.raises(RemoteProtocolError):  # answered already
        requester.receive(encode(Have(ask, Holding.FULL, b"")))
