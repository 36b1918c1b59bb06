"""Which chunks of a blob a node holds: one bit per chunk, the first chunk in the high bit."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from protocol.errors import RemoteProtocolError


class Bitfield:
    """A fixed-length set of chunk indexes, packed as bytes for the wire."""

    __slots__ = ("_bits", "_count", "size")

    def __init__(self, size: int, indexes: Iterable[int] = ()) -> None:
        self.size = size
        self._bits = bytearray(-(-size // 8))
        self._count = 0
        for index in indexes:
            self.add(index)

    @classmethod
    def full(cls, size: int) -> Bitfield:
        return cls(size, range(size))

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Bitfield:
        """A bitfield from the wire: exactly the right length, no bits set past `size`."""
        field = cls(size)
        if len(data) != len(field._bits):
            raise RemoteProtocolError(f"a bitfield of {size} chunks is {len(field._bits)} bytes")
        spare = len(data) * 8 - size
        if spare and data[-1] & ((1 << spare) - 1):
            raise RemoteProtocolError("a bitfield has bits set past its last chunk")
        field._bits[:] = data
        field._count = sum(bin(byte).count("1") for byte in data)
        return field

    def to_bytes(self) -> bytes:
        return bytes(self._bits)

    def add(self, index: int) -> None:
        if not 0 <= index < self.size:
            raise IndexError(index)
        mask = 0x80 >> (index % 8)
        if not self._bits[index // 8] & mask:
            self._bits[index // 8] |= mask
            self._count += 1

    def __contains__(self, index: object) -> bool:
        if not isinstance(index, int) or not 0 <= index < self.size:
            return False
        return bool(self._bits[index // 8] & (0x80 >> (index % 8)))

    def __len__(self) -> int:
        """How many chunks are held."""
        return self._count

    def __iter__(self) -> Iterator[int]:
        return (index for index in range(self.size) if index in self)

    @property
    def complete(self) -> bool:
        return self._count == self.size

    def missing(self) -> list[int]:
        return [index for index in range(self.size) if index not in self]
