"""Bounded msgpack decoding: every length is capped before the decoder allocates."""

from __future__ import annotations

from typing import Any, Final

import msgpack

from protocol.errors import DecodeError
from protocol.limits import MAX_ARRAY_LEN, MAX_DEPTH, MAX_MAP_LEN


def _no_duplicate_keys(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    if not all(isinstance(key, str) for key, _ in pairs):
        # strict_map_key still lets bytes keys through; the format allows only text.
        raise DecodeError("map keys must be strings")
    result = dict(pairs)
    if len(result) != len(pairs):
        # Two readers could keep different duplicates; refuse the ambiguity.
        raise DecodeError("map has a duplicate key")
    return result


def _refuse_ext(code: int, data: bytes) -> Any:
    # max_ext_len=0 stops every extension but the empty ones (ext 8, length 0).
    raise DecodeError(f"extension type {code} is not allowed")


def unpack(
    data: bytes,
    *,
    max_bytes: int,
    max_array_len: int = MAX_ARRAY_LEN,
    max_map_len: int = MAX_MAP_LEN,
    max_depth: int = MAX_DEPTH,
    max_items: int | None = None,
) -> Any:
    """Decode exactly one msgpack object from `data`, or raise DecodeError.

    Strings must be UTF-8, map keys must be strings, extension types are
    refused, and nothing may follow the object. Each call uses a fresh
    decoder, so an error never leaves state behind. `max_items`, if given,
    caps the arrays and maps plus all their elements and pairs in the message.
    """
    if len(data) > max_bytes:
        raise DecodeError(f"message is {len(data)} bytes, the limit is {max_bytes}")
    _check_shape(data, max_depth, max_array_len, max_map_len, max_items)
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            use_list=True,
            object_pairs_hook=_no_duplicate_keys,
            max_str_len=max_bytes,
            max_bin_len=max_bytes,
            max_array_len=max_array_len,
            max_map_len=max_map_len,
            max_ext_len=0,
            ext_hook=_refuse_ext,
        )
    except DecodeError:
        raise
    except msgpack.ExtraData as exc:
        raise DecodeError("trailing bytes after the message") from exc
    except msgpack.StackError as exc:
        raise DecodeError("nesting is too deep") from exc
    except UnicodeDecodeError as exc:
        raise DecodeError("a string is not valid UTF-8") from exc
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise DecodeError(_describe(exc)) from exc
    return value


def _describe(exc: Exception) -> str:
    text = str(exc)
    if "exceeds max_" in text:
        return f"declared length too large ({text})"
    if isinstance(exc, ValueError) and ("incomplete" in text or "Unpack failed" in text):
        return "truncated or malformed msgpack"
    return f"malformed msgpack ({type(exc).__name__}: {text or 'no detail'})"


def _shape_table() -> tuple[tuple[int, int, int], ...]:
    """(kind, a, b) for each first byte of a msgpack object, for _check_shape.

    kind 0: a scalar with `a` more bytes; 1: a str, bin or ext with an `a`-byte length and
    `b` bytes (the ext type) before the data; 2: an array (b=0) or map (b=1) of `a` entries;
    3: an array or map with an `a`-byte count; 4: a byte that never starts an object.
    """
    table = [(0, 0, 0)] * 256  # positive and negative fixint, nil, false, true
    for byte in range(0x80, 0x90):
        table[byte] = (2, byte & 0x0F, 1)
    for byte in range(0x90, 0xA0):
        table[byte] = (2, byte & 0x0F, 0)
    for byte in range(0xA0, 0xC0):
        table[byte] = (0, byte & 0x1F, 0)
    sizes = {0xCC: 1, 0xD0: 1, 0xCD: 2, 0xD1: 2, 0xCA: 4, 0xCE: 4, 0xD2: 4, 0xCB: 8, 0xCF: 8}
    sizes |= {0xD3: 8, 0xD4: 2, 0xD5: 3, 0xD6: 5, 0xD7: 9, 0xD8: 17}
    for byte, size in sizes.items():
        table[byte] = (0, size, 0)
    for byte, width in {0xC4: 1, 0xC5: 2, 0xC6: 4, 0xD9: 1, 0xDA: 2, 0xDB: 4}.items():
        table[byte] = (1, width, 0)
    for byte, width in {0xC7: 1, 0xC8: 2, 0xC9: 4}.items():
        table[byte] = (1, width, 1)
    table[0xDC], table[0xDD], table[0xDE], table[0xDF] = (3, 2, 0), (3, 4, 0), (3, 2, 1), (3, 4, 1)
    table[0xC1] = (4, 0, 0)
    return tuple(table)


_SHAPE: Final = _shape_table()


def _check_shape(
    data: bytes, max_depth: int, max_array_len: int, max_map_len: int, max_items: int | None
) -> None:
    """Enforce the depth limit (and `max_items`) by walking the headers before decoding.

    msgpack allocates each array's or map's slots as soon as it reads the declared count,
    and nests up to 1,024 levels before noticing anything: 3 bytes per level declaring
    4,096 elements made 3 KB of input allocate 31 MiB. Walking first bounds what msgpack
    may allocate by max_depth levels. Anything malformed or over a length limit ends the
    walk: msgpack reports it, before allocating, with its usual message.
    """
    table = _SHAPE
    end = len(data)
    pos = 0
    items = 0
    pending = [1]  # elements left to read at each open level; the first is the root
    while pending:
        if not pending[-1]:
            pending.pop()
            continue
        pending[-1] -= 1
        if pos >= end:
            return
        kind, a, b = table[data[pos]]
        pos += 1
        if kind == 0:
            pos += a
            continue
        if kind == 1:
            pos += a + b + int.from_bytes(data[pos : pos + a], "big")
            continue
        if kind == 2:
            count = a
        elif kind == 3 and pos + a <= end:
            count = int.from_bytes(data[pos : pos + a], "big")
            pos += a
        else:
            return  # truncated, or 0xc1: msgpack says so
        if len(pending) > max_depth:  # the open containers above this one, plus the root slot
            raise DecodeError(f"nesting deeper than {max_depth} levels")
        if count > (max_map_len if b else max_array_len):
            return
        if max_items is not None:
            items += 1 + count
            if items > max_items:
                raise DecodeError(f"more than {max_items} array elements and map pairs")
        pending.append(count << b)


def pack(value: Any) -> bytes:
    """Encode with msgpack's standard rules (bin type for bytes, str for text)."""
    result: bytes = msgpack.packb(value, use_bin_type=True, datetime=False)
    return result


def peek_array(data: bytes, count: int, *, max_bytes: int) -> list[Any] | None:
    """The first `count` items of the msgpack array `data` holds, read loosely (no shape
    checks, nothing after them looked at); None if they cannot be read. For a glance at
    what untrusted bytes claim, never for what they are: unpack() decides that."""
    if len(data) > max_bytes:
        return None
    unpacker = msgpack.Unpacker(
        raw=False, max_buffer_size=max_bytes, max_ext_len=0, strict_map_key=True
    )
    unpacker.feed(data)
    try:
        if unpacker.read_array_header() < count:
            return None
        return [unpacker.unpack() for _ in range(count)]
    except (ValueError, msgpack.UnpackException):
        return None
