"""Our own seeded mutation fuzzer: the engine when atheris is not installed, and the short
version in the test suite.

It mutates a corpus that starts as the valid seeds (bit flips, interesting integers,
truncation, splicing, chunk duplication, msgpack length inflation and header injection,
varint inflation, nesting) and grows it with inputs whose outcome is new: the rejection's
exception type and message with the numbers taken out. That crude feedback stands in for
coverage: each distinct message names a distinct check that was reached.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from typing import Final

MSGPACK_BOMBS: Final[tuple[bytes, ...]] = (
    b"\xdd\xff\xff\xff\xff",  # array32 of 2^32 - 1 elements
    b"\xdc\xff\xff",  # array16 of 65535
    b"\xdf\xff\xff\xff\xff",  # map32 of 2^32 - 1 pairs
    b"\xde\xff\xff",  # map16
    b"\xdb\xff\xff\xff\xff",  # str32 of 4 GiB
    b"\xda\xff\xff",
    b"\xd9\xff",
    b"\xc6\xff\xff\xff\xff",  # bin32 of 4 GiB
    b"\xc5\xff\xff",
    b"\xc4\xff",
    b"\xc9\xff\xff\xff\xff\x01",  # ext32
    b"\xc7\xff\x01",
    b"\xd4\x00\x00",  # fixext1
    b"\xc7\x00\x08",  # empty ext 8
    b"\xc1",  # never used
    b"\xcf\xff\xff\xff\xff\xff\xff\xff\xff",  # uint64 max
    b"\xd3\x80\x00\x00\x00\x00\x00\x00\x00",  # int64 min
    b"\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00",  # float64 NaN
    b"\x91" * 64,  # deep nesting
    b"\x81\xa1k" * 32,  # nested maps
    b"\xa3\xed\xa0\x80",  # a surrogate in "UTF-8"
    b"\x82\xa1a\xc0\xa1a\xc0",  # duplicate key
    b"\x81\xc4\x01k\xc0",  # bytes key
    b"\x81\x01\xc0",  # int key
)

_INTERESTING_8: Final = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x90, 0x91, 0x80, 0xC0, 0xC1, 0xA0)
_INTERESTING_INTS: Final = (
    0,
    1,
    0x7F,
    0x80,
    0xFF,
    0x100,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x10000,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
    2**53 - 1,
    2**63 - 1,
    2**64 - 1,
)
# msgpack headers with a length field: header byte -> size of the length field in bytes
_LENGTH_HEADERS: Final = {
    0xC4: 1,
    0xC5: 2,
    0xC6: 4,
    0xD9: 1,
    0xDA: 2,
    0xDB: 4,
    0xDC: 2,
    0xDD: 4,
    0xDE: 2,
    0xDF: 4,
    0xC7: 1,
    0xC8: 2,
    0xC9: 4,
}
_NUMBERS: Final = re.compile(r"[0-9]+|b'[^']*'|'[^']*'")


def outcome_key(result: str, detail: str) -> str:
    """What makes an outcome new: the exception and its message without numbers or quotes."""
    return f"{result}:{_NUMBERS.sub('#', detail)[:120]}"


class Mutator:
    """Generates inputs for one target from a growing corpus, deterministically from `seed`."""

    def __init__(
        self,
        seeds: Sequence[bytes],
        *,
        seed: int,
        max_len: int,
        max_corpus: int = 4096,
        tokens: Sequence[bytes] = (),
    ) -> None:
        self.rng = random.Random(seed)
        self.corpus: list[bytes] = [s for s in seeds] or [b""]
        self.max_len = max_len
        self.max_corpus = max_corpus
        self.tokens: list[bytes] = [*MSGPACK_BOMBS, *tokens]
        self.seen: set[str] = set()
        self._ops: list[Callable[[bytearray], bytearray]] = [
            self._flip_bit,
            self._flip_bit,
            self._set_byte,
            self._add_byte,
            self._set_int,
            self._truncate,
            self._drop_range,
            self._insert_random,
            self._duplicate_chunk,
            self._splice,
            self._inflate_length,
            self._inflate_length,
            self._inject_token,
            self._inflate_varint,
            self._set_u16_prefix,
            self._repeat_chunk,
            self._nest,
        ]

    def generate(self) -> bytes:
        rng = self.rng
        roll = rng.random()
        if roll < 0.01:
            return rng.randbytes(rng.randrange(0, 64))
        data = bytearray(rng.choice(self.corpus))
        for _ in range(1 + min(int(rng.expovariate(0.7)), 7)):
            data = rng.choice(self._ops)(data)
        return bytes(data[: self.max_len])

    def feedback(self, data: bytes, result: str, detail: str) -> bool:
        """Keep `data` in the corpus if its outcome is new; True if it was kept."""
        key = outcome_key(result, detail)
        if key in self.seen:
            return False
        self.seen.add(key)
        if len(self.corpus) < self.max_corpus:
            self.corpus.append(data)
        else:
            self.corpus[self.rng.randrange(len(self.corpus))] = data
        return True

    # -- mutations ---------------------------------------------------------------------------

    def _pos(self, data: bytearray, extra: int = 0) -> int:
        return self.rng.randrange(len(data) + extra) if data or extra else 0

    def _flip_bit(self, data: bytearray) -> bytearray:
        if data:
            i = self._pos(data)
            data[i] ^= 1 << self.rng.randrange(8)
        return data

    def _set_byte(self, data: bytearray) -> bytearray:
        if data:
            data[self._pos(data)] = self.rng.choice(
                (*_INTERESTING_8, self.rng.randrange(256), *_LENGTH_HEADERS)
            )
        return data

    def _add_byte(self, data: bytearray) -> bytearray:
        if data:
            i = self._pos(data)
            data[i] = (data[i] + self.rng.choice((-1, 1, -16, 16, 0x80))) & 0xFF
        return data

    def _set_int(self, data: bytearray) -> bytearray:
        size = self.rng.choice((1, 2, 4, 8))
        value = self.rng.choice(_INTERESTING_INTS) & ((1 << (8 * size)) - 1)
        raw = value.to_bytes(size, self.rng.choice(("big", "little")))
        i = self._pos(data)
        data[i : i + size] = raw
        return data

    def _truncate(self, data: bytearray) -> bytearray:
        return data[: self._pos(data)] if data else data

    def _drop_range(self, data: bytearray) -> bytearray:
        if data:
            i = self._pos(data)
            del data[i : i + self.rng.randrange(1, 64)]
        return data

    def _insert_random(self, data: bytearray) -> bytearray:
        i = self._pos(data, 1)
        data[i:i] = self.rng.randbytes(self.rng.randrange(1, 16))
        return data

    def _duplicate_chunk(self, data: bytearray) -> bytearray:
        if data:
            i = self._pos(data)
            chunk = data[i : i + self.rng.randrange(1, 128)]
            j = self._pos(data, 1)
            data[j:j] = chunk
        return data

    def _splice(self, data: bytearray) -> bytearray:
        other = self.rng.choice(self.corpus)
        i = self._pos(data, 1)
        j = self.rng.randrange(len(other) + 1)
        return data[:i] + other[j:]

    def _inflate_length(self, data: bytearray) -> bytearray:
        """Find a msgpack header with a length (or a fix-type) and make its length huge."""
        if not data:
            return data
        start = self._pos(data)
        for offset in range(len(data)):
            i = (start + offset) % len(data)
            byte = data[i]
            if byte in _LENGTH_HEADERS:
                size = _LENGTH_HEADERS[byte]
                value = self.rng.choice((2 ** (8 * size) - 1, 2 ** (8 * size - 1), 0))
                data[i + 1 : i + 1 + size] = value.to_bytes(size, "big")
                return data
            if 0x90 <= byte <= 0x9F or 0x80 <= byte <= 0x8F or 0xA0 <= byte <= 0xBF:
                data[i] = byte | 0x0F if byte < 0xA0 else byte | 0x1F  # largest fix length
                return data
        return data

    def _inject_token(self, data: bytearray) -> bytearray:
        i = self._pos(data, 1)
        data[i:i] = self.rng.choice(self.tokens)
        return data

    def _inflate_varint(self, data: bytearray) -> bytearray:
        """LEB128 abuse for the reconciliation format: long, overlong and huge varints."""
        i = self._pos(data, 1)
        token = self.rng.choice(
            (b"\xff" * 9 + b"\x01", b"\xff" * 10 + b"\x7f", b"\x80\x00", b"\xff" * 11, b"\x80")
        )
        data[i:i] = token
        return data

    def _set_u16_prefix(self, data: bytearray) -> bytearray:
        """Rewrite a 2-byte big-endian length (the reconcile target's framing) at random."""
        i = self._pos(data)
        value = self.rng.choice((0, 1, 0xFFFF, len(data) & 0xFFFF, self.rng.randrange(0x10000)))
        data[i : i + 2] = value.to_bytes(2, "big")
        return data

    def _repeat_chunk(self, data: bytearray) -> bytearray:
        """A chunk repeated until a large input: width and depth bombs within the limits."""
        if not data:
            return data
        i = self._pos(data)
        chunk = data[i : i + self.rng.randrange(1, 8)]
        times = self.rng.choice((16, 256, 4096, self.max_len // max(1, len(chunk))))
        data[i:i] = chunk * times
        return data

    def _nest(self, data: bytearray) -> bytearray:
        depth = self.rng.choice((1, 2, 15, 16, 17, 100, 2000))
        return bytearray(self.rng.choice((b"\x91", b"\x81\xa1k")) * depth) + data
