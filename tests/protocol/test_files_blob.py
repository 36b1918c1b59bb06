"""Blob ids, chunk sizes and chunk verification (protocol/files/blob.py), and the bitfield."""

from __future__ import annotations

import hashlib

import pytest

from protocol.errors import LocalProtocolError, RemoteProtocolError
from protocol.files import BadChunk, BadLayout, Bitfield, ChunkRules, Hasher, layout_from_wire
from protocol.files.blob import MAX_CHUNK_BYTES, MIN_CHUNK_BYTES, layout_of

KIB = 1024
MIB = 1024 * KIB
SMALL = ChunkRules(min_chunk=1 * KIB, max_chunk=4 * KIB, max_chunks=4)


@pytest.mark.parametrize(
    ("size", "chunk"),
    [
        (0, MIN_CHUNK_BYTES),
        (1, MIN_CHUNK_BYTES),
        (256 * MIB, MIN_CHUNK_BYTES),  # exactly 1,024 chunks of 256 KiB
        (256 * MIB + 1, 512 * KIB),
        (700 * MIB, 1 * MIB),
        (16 * 1024 * MIB, MAX_CHUNK_BYTES),
    ],
)
def test_the_chunk_size_is_the_smallest_power_of_two_giving_at_most_1024_chunks(
    size: int, chunk: int
) -> None:
    assert ChunkRules().chunk_size_for(size) == chunk


def test_a_blob_too_big_for_1024_chunks_of_16_mib_is_refused() -> None:
    with pytest.raises(LocalProtocolError):
        ChunkRules().chunk_size_for(16 * 1024 * MIB + 1)


def test_rules_must_be_powers_of_two() -> None:
    with pytest.raises(LocalProtocolError):
        ChunkRules(min_chunk=1000)


def test_identical_bytes_get_the_same_id_and_any_change_another() -> None:
    data = bytes(range(256)) * 40  # 10 KiB: 3 chunks of 4 KiB
    layout = layout_of(data, SMALL)
    assert layout.chunk_size == 4 * KIB
    assert layout.chunks == 3
    assert layout_of(bytes(data), SMALL).id == layout.id
    changed = bytearray(data)
    changed[-1] ^= 1
    assert layout_of(bytes(changed), SMALL).id != layout.id
    assert layout.id[0] == 1
    assert len(layout.id) == 33


def test_streaming_in_odd_pieces_gives_the_layout_of_the_whole() -> None:
    data = hashlib.sha256(b"seed").digest() * 300  # 9,600 bytes
    hasher = Hasher(len(data), SMALL)
    for start in range(0, len(data), 777):
        hasher.update(data[start : start + 777])
    assert hasher.layout() == layout_of(data, SMALL)


def test_a_hasher_refuses_more_or_fewer_bytes_than_the_size() -> None:
    hasher = Hasher(3, SMALL)
    with pytest.raises(LocalProtocolError):
        hasher.update(b"four")
    hasher.update(b"ab")
    with pytest.raises(LocalProtocolError):
        hasher.layout()


def test_each_chunk_is_verified_on_its_own() -> None:
    data = b"x" * 4096 + b"y" * 4096 + b"z" * 100
    layout = layout_of(data, SMALL)
    layout.verify_chunk(2, b"z" * 100)
    with pytest.raises(BadChunk):
        layout.verify_chunk(1, b"x" * 4096)
    with pytest.raises(BadChunk):
        layout.verify_chunk(2, b"z" * 99)
    assert [layout.chunk_length(i) for i in range(3)] == [4096, 4096, 100]


def test_a_hash_list_from_the_network_must_match_the_id() -> None:
    layout = layout_of(b"a" * 5000, SMALL)
    wire = (layout.size, layout.chunk_size, layout.hash_list())
    assert layout_from_wire(layout.id, *wire, SMALL) == layout
    with pytest.raises(BadLayout):
        layout_from_wire(layout.id, layout.size + 1, layout.chunk_size, layout.hash_list(), SMALL)
    empty = layout_of(b"", SMALL)
    with pytest.raises(BadLayout):  # the id commits to the chunk size, even of no chunks
        layout_from_wire(empty.id, 0, 2 * KIB, b"", SMALL)
    with pytest.raises(BadLayout):  # outside the rules
        layout_from_wire(layout.id, layout.size, 3000, layout.hash_list(), SMALL)
    with pytest.raises(BadLayout):
        layout_from_wire(layout.id, *wire[:2], layout.hash_list()[:-1], SMALL)
    other = bytes([1]) + bytes(32)
    with pytest.raises(BadLayout):
        layout_from_wire(other, *wire, SMALL)


def test_a_bitfield_round_trips_and_refuses_stray_bits() -> None:
    field = Bitfield(10, [0, 3, 9])
    assert list(field) == [0, 3, 9]
    assert field.to_bytes() == bytes([0b10010000, 0b01000000])
    again = Bitfield.from_bytes(10, field.to_bytes())
    assert list(again) == [0, 3, 9]
    assert len(again) == 3
    assert again.missing() == [1, 2, 4, 5, 6, 7, 8]
    with pytest.raises(RemoteProtocolError):
        Bitfield.from_bytes(10, bytes([0, 0b00100000]))  # bit 10 of a 10-chunk blob
    with pytest.raises(RemoteProtocolError):
        Bitfield.from_bytes(10, bytes(3))
    assert Bitfield.full(10).complete
    assert not field.complete
