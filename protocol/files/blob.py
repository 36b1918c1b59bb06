"""Blobs: content addressed by a versioned id over size, chunk size and the chunks' hashes.

Rules of this file:
- A blob is cut into chunks of one power-of-two size; only the last may be shorter.
- The id commits to the size, the chunk size and every chunk's SHA-256, so a hash list
  that matches the id proves every chunk, and each chunk is checked on its own.
- The first byte of an id is its version: another hash can come later under a new one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

from protocol.errors import LocalProtocolError, RemoteProtocolError

BLOB_VERSION: Final = 1
HASH_BYTES: Final = 32
BLOB_ID_BYTES: Final = 1 + HASH_BYTES
"""An id: the version byte, then SHA-256 of the layout (`blob_id`)."""
_DOMAIN: Final = b"peernode/blob@1\x00"

MIN_CHUNK_BYTES: Final = 256 * 1024
MAX_CHUNK_BYTES: Final = 16 * 1024 * 1024
MAX_CHUNKS: Final = 1024
"""With 16 MiB chunks: blobs of up to 16 GiB, and a hash list of at most 32 KiB."""


class BadChunk(RemoteProtocolError):
    """A chunk whose bytes do not hash to the hash list's entry."""


class BadLayout(RemoteProtocolError):
    """A size, chunk size or hash list that breaks the rules or does not match the id."""


@dataclass(frozen=True, slots=True)
class ChunkRules:
    """The chunk sizes a node makes and accepts; the defaults are the protocol's.

    Tests pass smaller ones so that a multi-chunk file is a few KiB.
    """

    min_chunk: int = MIN_CHUNK_BYTES
    max_chunk: int = MAX_CHUNK_BYTES
    max_chunks: int = MAX_CHUNKS

    def __post_init__(self) -> None:
        if not (_power_of_two(self.min_chunk) and _power_of_two(self.max_chunk)):
            raise LocalProtocolError("chunk size bounds must be powers of two")
        if self.min_chunk > self.max_chunk or self.max_chunks < 1:
            raise LocalProtocolError("min_chunk must not exceed max_chunk; max_chunks >= 1")

    @property
    def max_size(self) -> int:
        """The largest blob these rules can cut."""
        return self.max_chunk * self.max_chunks

    def chunk_size_for(self, size: int) -> int:
        """The smallest allowed chunk size that cuts `size` bytes into at most max_chunks."""
        if size < 0 or size > self.max_size:
            raise LocalProtocolError(f"a blob of {size} bytes is outside 0..{self.max_size}")
        chunk = self.min_chunk
        while chunk_count(size, chunk) > self.max_chunks:
            chunk *= 2
        return chunk


def _power_of_two(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0


def chunk_count(size: int, chunk_size: int) -> int:
    return -(-size // chunk_size)


@dataclass(frozen=True, slots=True)
class Layout:
    """A blob's size, chunk size and the SHA-256 of each chunk, in order."""

    size: int
    chunk_size: int
    hashes: tuple[bytes, ...]

    @property
    def chunks(self) -> int:
        return len(self.hashes)

    @property
    def id(self) -> bytes:
        return blob_id(self)

    def chunk_length(self, index: int) -> int:
        """How many bytes chunk `index` holds (the last one may be short)."""
        if not 0 <= index < self.chunks:
            raise LocalProtocolError(f"chunk {index} is outside 0..{self.chunks - 1}")
        return min(self.chunk_size, self.size - index * self.chunk_size)

    def offset(self, index: int) -> int:
        return index * self.chunk_size

    def hash_list(self) -> bytes:
        return b"".join(self.hashes)

    def verify_chunk(self, index: int, data: bytes) -> None:
        """Raise BadChunk unless `data` is exactly chunk `index`."""
        if len(data) != self.chunk_length(index):
            raise BadChunk(f"chunk {index} is {len(data)} bytes, not {self.chunk_length(index)}")
        if hashlib.sha256(data).digest() != self.hashes[index]:
            raise BadChunk(f"chunk {index} does not match its hash")


def blob_id(layout: Layout) -> bytes:
    """The id: version byte + SHA-256(domain, size u64 BE, log2 chunk size u8, hash list)."""
    header = layout.size.to_bytes(8, "big") + bytes([layout.chunk_size.bit_length() - 1])
    digest = hashlib.sha256(_DOMAIN + header + layout.hash_list()).digest()
    return bytes([BLOB_VERSION]) + digest


def check_blob_id(value: bytes) -> bytes:
    """An id from the network: the right length and a version this node knows."""
    if len(value) != BLOB_ID_BYTES or value[0] != BLOB_VERSION:
        raise BadLayout(f"a blob id is {BLOB_ID_BYTES} bytes starting with {BLOB_VERSION}")
    return value


def layout_from_wire(
    expected_id: bytes, size: int, chunk_size: int, hash_list: bytes, rules: ChunkRules
) -> Layout:
    """A layout a peer sent for `expected_id`: within `rules`, and matching the id."""
    if not (_power_of_two(chunk_size) and rules.min_chunk <= chunk_size <= rules.max_chunk):
        raise BadLayout(f"chunk size {chunk_size} is not a power of two within the rules")
    if not 0 <= size <= rules.max_size:
        raise BadLayout(f"size {size} is outside 0..{rules.max_size}")
    count = chunk_count(size, chunk_size)
    if count > rules.max_chunks or len(hash_list) != count * HASH_BYTES:
        raise BadLayout(f"the hash list must hold {count} hashes of {HASH_BYTES} bytes")
    hashes = tuple(hash_list[i : i + HASH_BYTES] for i in range(0, len(hash_list), HASH_BYTES))
    layout = Layout(size, chunk_size, hashes)
    if layout.id != expected_id:
        raise BadLayout("the hash list does not match the blob id")
    return layout


class Hasher:
    """Cuts a stream of bytes of known size into chunks and hashes each: the layout."""

    def __init__(self, size: int, rules: ChunkRules = ChunkRules()) -> None:
        self.size = size
        self.chunk_size = rules.chunk_size_for(size)
        self._hashes: list[bytes] = []
        self._current = hashlib.sha256()
        self._in_chunk = 0
        self._seen = 0

    def update(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        if self._seen + len(view) > self.size:
            raise LocalProtocolError("more bytes than the size given")
        self._seen += len(view)
        while view:
            take = min(len(view), self.chunk_size - self._in_chunk)
            self._current.update(view[:take])
            self._in_chunk += take
            view = view[take:]
            if self._in_chunk == self.chunk_size:
                self._end_chunk()

    def _end_chunk(self) -> None:
        self._hashes.append(self._current.digest())
        self._current = hashlib.sha256()
        self._in_chunk = 0

    def layout(self) -> Layout:
        if self._seen != self.size:
            raise LocalProtocolError(f"{self._seen} bytes hashed, the size is {self.size}")
        if self._in_chunk:
            self._end_chunk()
        return Layout(self.size, self.chunk_size, tuple(self._hashes))


def layout_of(data: bytes, rules: ChunkRules = ChunkRules()) -> Layout:
    """The layout of bytes in memory (a manifest, a test's file)."""
    hasher = Hasher(len(data), rules)
    hasher.update(data)
    return hasher.layout()
