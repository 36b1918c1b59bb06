"""Bounded msgpack decoding: every length is capped before the decoder allocates."""

from __future__ import annotations

from typing import Any

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
) -> Any:
    """Decode exactly one msgpack object from `data`, or raise DecodeError.

    Strings must be UTF-8, map keys must be strings, extension types are
    refused, and nothing may follow the object. Each call uses a fresh
    decoder, so an error never leaves state behind.
    """
    if len(data) > max_bytes:
        raise DecodeError(f"message is {len(data)} bytes, the limit is {max_bytes}")
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
    _check_depth(value, max_depth)
    return value


def _describe(exc: Exception) -> str:
    text = str(exc)
    if "exceeds max_" in text:
        return f"declared length too large ({text})"
    if isinstance(exc, ValueError) and ("incomplete" in text or "Unpack failed" in text):
        return "truncated or malformed msgpack"
    return f"malformed msgpack ({type(exc).__name__}: {text or 'no detail'})"


def _check_depth(value: Any, max_depth: int) -> None:
    # Iterative, so a hostile depth cannot exhaust the Python stack.
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, list):
            children: Any = item
        elif isinstance(item, dict):
            children = item.values()
        else:
            continue
        if depth >= max_depth:
            raise DecodeError(f"nesting deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children)


def pack(value: Any) -> bytes:
    """Encode with msgpack's standard rules (bin type for bytes, str for text)."""
    result: bytes = msgpack.packb(value, use_bin_type=True, datetime=False)
    return result
