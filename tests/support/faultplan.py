"""What the fault proxy does to one direction of a byte stream: plans and faults, no I/O."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

OP_BINARY: Final = 0x2
OP_CLOSE: Final = 0x8


@dataclass(frozen=True, slots=True)
class Faults:
    """What happens to one direction of one connection; the defaults forward untouched.

    Offsets (`*_at`) count the bytes the sender sent that way, before any fault. A chunk is
    what one read returned, cut into pieces of 1..`split` bytes when split > 0; with
    `frames`, it is one WebSocket frame after the HTTP upgrade instead, and drop, flip,
    duplicate and reorder act on the first binary frame that starts at or after their
    offset (flip changes a bit of its payload): the framing stays valid and only what the
    frames carry lies, which is what the secure channel must catch. Each fault fires once.

    A cut resets the sender. The receiver gets exactly `cut_at` bytes and then a FIN, or
    with `reset` an RST as well, which also loses what it had received but not read yet
    (Linux discards it): how much depends on how busy the receiver was, so only the FIN
    kind makes the count of bytes delivered exact.
    """

    delay: float = 0.0  # seconds added to every chunk (latency, not a throughput cap)
    jitter: float = 0.0  # plus uniform(0, jitter); TCP keeps the order, so does this
    split: int = 0
    frames: bool = False
    drop_at: int | None = None  # lose a chunk: on a byte stream, that is corruption
    flip_at: int | None = None
    duplicate_at: int | None = None  # a replay
    reorder_at: int | None = None  # hold a chunk back and send it after the next one
    cut_at: int | None = None  # forward this many bytes, then cut the connection
    reset: bool = False  # the cut resets the receiver too (else it gets the bytes, then a FIN)


@dataclass(frozen=True, slots=True)
class Plan:
    """The faults of one connection, per direction."""

    up: Faults = Faults()
    down: Faults = Faults()


CLEAN: Final = Plan()
PlanFor = Callable[[int], Plan]
"""Connection number (0, 1, ... in accept order) → its plan."""


def always(plan: Plan) -> PlanFor:
    return lambda number: plan


def every(k: int, plan: Plan, otherwise: Plan = CLEAN) -> PlanFor:
    """`plan` for the k-th, 2k-th, ... connection; `otherwise` for the rest."""
    return lambda number: plan if (number + 1) % k == 0 else otherwise


def first(plans: Sequence[Plan], then: Plan = CLEAN) -> PlanFor:
    """`plans` for the first connections, one each, then `then` for good."""
    return lambda number: plans[number] if number < len(plans) else then


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes forwarded as one write (or held, dropped, repeated as one)."""

    data: bytes
    start: int  # offset of data[0] in the direction's stream
    opcode: int | None = None  # a WebSocket frame's opcode (frames mode, after the upgrade)
    payload_at: int = 0  # where the frame's payload starts in data


def _frame_size(buf: bytearray) -> tuple[int, int] | None:
    """(header, total) bytes of the WebSocket frame at the start of `buf`; None if incomplete."""
    if len(buf) < 2:
        return None
    size, header = buf[1] & 0x7F, 2
    if size == 126:
        header = 4
        if len(buf) < header:
            return None
        size = struct.unpack_from("!H", buf, 2)[0]
    elif size == 127:
        header = 10
        if len(buf) < header:
            return None
        size = struct.unpack_from("!Q", buf, 2)[0]
    header += 4 if buf[1] & 0x80 else 0  # the client's masking key
    return (header, header + size) if len(buf) >= header + size else None


class _Frames:
    """Cuts a stream into the HTTP upgrade, then whole WebSocket frames (with their opcodes)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._offset = 0
        self._upgraded = False

    def _take(self, size: int, opcode: int | None = None, payload_at: int = 0) -> Chunk:
        chunk = Chunk(bytes(self._buf[:size]), self._offset, opcode, payload_at)
        del self._buf[:size]
        self._offset += size
        return chunk

    def feed(self, data: bytes) -> list[Chunk]:
        self._buf += data
        chunks = []
        if not self._upgraded:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return []
            self._upgraded = True
            chunks.append(self._take(end + 4))
        while (sizes := _frame_size(self._buf)) is not None:
            chunks.append(self._take(sizes[1], self._buf[0] & 0x0F, sizes[0]))
        return chunks

    def rest(self) -> list[Chunk]:
        return [self._take(len(self._buf))] if self._buf else []


class Chunker:
    """Cuts one direction's stream into chunks: pieces of reads, or whole WebSocket frames.

    `opcodes` lists the frames seen either way, so a test can tell who closed the link.
    """

    def __init__(self, faults: Faults, rng: random.Random) -> None:
        self._faults, self._rng = faults, rng
        self._frames = _Frames()
        self._offset = 0
        self.opcodes: list[int] = []

    def feed(self, data: bytes) -> list[Chunk]:
        frames = self._frames.feed(data)
        self.opcodes += [frame.opcode for frame in frames if frame.opcode is not None]
        if self._faults.frames:
            return frames
        chunks, at, split = [], 0, self._faults.split
        while at < len(data):
            size = self._rng.randint(1, split) if split else len(data)
            chunks.append(Chunk(data[at : at + size], self._offset + at))
            at += size
        self._offset += len(data)
        return chunks

    def rest(self) -> list[Chunk]:
        return self._frames.rest() if self._faults.frames else []


class Injector:
    """Applies one direction's one-shot faults to its chunks, in stream order."""

    def __init__(self, faults: Faults, rng: random.Random, note: Callable[[str], None]) -> None:
        self._f, self._rng, self._note = faults, rng, note
        self._done: set[str] = set()
        self.held: bytes | None = None

    def _due(self, name: str, at: int | None, chunk: Chunk) -> bool:
        if at is None or name in self._done:
            return False
        if self._f.frames:
            hit = (
                chunk.opcode == OP_BINARY
                and chunk.start >= at
                and len(chunk.data) > chunk.payload_at
            )
        else:
            hit = chunk.start + len(chunk.data) > at
        if hit:
            self._done.add(name)
        return hit

    def apply(self, chunk: Chunk) -> tuple[list[bytes], bool]:
        """The bytes to send now for this chunk, and whether to cut after them."""
        data, cut = chunk.data, False
        if self._f.cut_at is not None and chunk.start + len(data) >= self._f.cut_at:
            data, cut = data[: max(0, self._f.cut_at - chunk.start)], True
            chunk = Chunk(data, chunk.start, chunk.opcode, chunk.payload_at)
            self._note(f"cut after {self._f.cut_at} bytes")
        if self._due("flip", self._f.flip_at, chunk):
            data = self._flip(chunk)
        out = [data]
        if self._due("duplicate", self._f.duplicate_at, chunk):
            out = [data, data]
            self._note(f"duplicated the {len(data)} bytes at {chunk.start}")
        if self._due("drop", self._f.drop_at, chunk):
            out = []
            self._note(f"dropped the {len(data)} bytes at {chunk.start}")
        if self.held is not None:
            out, self.held = [*out, self.held], None
        elif out and self._due("reorder", self._f.reorder_at, chunk):
            self.held, out = out[-1], out[:-1]
            self._note(f"held back the {len(data)} bytes at {chunk.start} behind the next chunk")
        return out, cut

    def _flip(self, chunk: Chunk) -> bytes:
        data = bytearray(chunk.data)
        at = self._f.flip_at or 0
        if self._f.frames:
            index = self._rng.randrange(chunk.payload_at, len(data))
        else:
            index = max(0, at - chunk.start)
        bit = self._rng.randrange(8)
        data[index] ^= 1 << bit
        self._note(f"flipped bit {bit} of byte {chunk.start + index}")
        return bytes(data)

    def release(self) -> list[bytes]:
        held, self.held = self.held, None
        return [] if held is None else [held]
