"""Decompression-style bombs for every decoder, and the memory each one costs.

msgpack bombs declare huge lengths in a few bytes (``dd ffffffff``, ``db ffffffff``,
``c6 ffffffff``, ``df ffffffff``, ``c9 ffffffff``), nest 100,000 levels deep, or fill the
size limit with the cheapest containers (one byte per empty array or map: the worst
amplification the limits allow). Reconciliation gets varint and range floods, discovery DNS
header, compression-loop and record floods. `measure()` runs each through the target under
tracemalloc and reports the peak allocation above the baseline per input.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from fuzz.harness import Finding, Limits, run_one, traced_memory
from fuzz.targets import LOCAL_INDEX, RECONCILE_LIMITS, TARGETS, join_frames
from protocol import wire
from protocol.limits import MAX_ARRAY_LEN, MAX_EVENT_BYTES

_SIG: Final = b"\x00" * 64


def _array_header(n: int) -> bytes:
    return (
        bytes((0x90 | n,))
        if n < 16
        else b"\xdc" + n.to_bytes(2, "big")
        if n < 2**16
        else (b"\xdd" + n.to_bytes(4, "big"))
    )


def _fill(size: int, item: bytes, max_array: int) -> bytes:
    """An array of arrays of `item`, at most `size` bytes, each array within `max_array`."""
    inner_count = min(max_array, max(1, (size - 8) // len(item)))
    inner = _array_header(inner_count) + item * inner_count
    outer = max(1, min(max_array, (size - 5) // len(inner)))
    return _array_header(outer) + inner * outer


def msgpack_bombs(size: int, max_array: int) -> list[tuple[str, bytes]]:
    """Generic msgpack bombs; the `fill` ones use `size` bytes, the decoder's own limit."""
    deep = max(1, size - 1)
    width = min(max_array, 0xFFFF)
    return [
        ("array32 2^32-1 declared", b"\xdd\xff\xff\xff\xff" + b"\xc0" * 8),
        ("map32 2^32-1 declared", b"\xdf\xff\xff\xff\xff" + b"\xa1k\xc0"),
        ("str32 4 GiB declared", b"\xdb\xff\xff\xff\xff" + b"abc"),
        ("bin32 4 GiB declared", b"\xc6\xff\xff\xff\xff" + b"abc"),
        ("ext32 4 GiB declared", b"\xc9\xff\xff\xff\xff\x01" + b"abc"),
        ("nesting 100k deep", b"\x91" * 100_000 + b"\xc0"),
        # Each level's slots are allocated when its header is read: 3 bytes -> 8 x count.
        ("max-length arrays 1,000 deep", (b"\xdc" + width.to_bytes(2, "big")) * 1000 + b"\xc0"),
        ("1,024-pair maps 1,000 deep", b"\xde\x04\x00\xa1k" * 1000 + b"\xc0"),
        ("nesting to the size limit", b"\x91" * deep + b"\xc0"),
        ("nested maps to the limit", b"\x81\xa1k" * (deep // 3) + b"\xc0"),
        ("empty arrays filling the limit", _fill(size, b"\x90", max_array)),
        ("empty maps filling the limit", _fill(size, b"\x80", max_array)),
        ("nils filling the limit", _fill(size, b"\xc0", max_array)),
        ("1-char strings filling the limit", _fill(size, b"\xa1x", max_array)),
        ("32-byte bins filling the limit", _fill(size, b"\xc4\x20" + b"\x01" * 32, max_array)),
    ]


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def reconcile_bombs() -> list[tuple[str, bytes]]:
    limit = RECONCILE_LIMITS[0]
    head = b"\x01" + _varint(limit)
    skip = _varint(2) + b"\x00" + b"\x00"  # next timestamp, no prefix, mode SKIP
    fingerprint = _varint(2) + b"\x00" + b"\x01" + _varint(1) + b"\x00" * 16
    items = len(LOCAL_INDEX)
    whole_less_one = _varint(0) + b"\x00" + b"\x01" + _varint(items - 1) + b"\x00" * 16
    ids = LOCAL_INDEX.ids(0, min(items, (limit - 64) // 32))
    id_list = _varint(0) + b"\x00" + b"\x02" + _varint(len(ids)) + b"".join(ids)
    room = limit - len(head) - 1

    def msg(body: bytes, initiator: bool = False) -> bytes:
        return bytes((int(initiator),)) + join_frames([head + body])

    return [
        ("ID_LIST of 2^64-1 ids declared", msg(b"\x02\x00\x02" + b"\xff" * 9 + b"\x01", True)),
        ("overlong varints", msg(b"\xff" * 10 + b"\x7f" + b"\x80" * 100)),
        ("limit varint 2^64-1", b"\x00" + join_frames([b"\x01" + b"\xff" * 9 + b"\x01"])),
        ("SKIP ranges filling 63 KiB", msg(skip * (room // len(skip)))),
        ("fingerprint ranges filling 63 KiB", msg(fingerprint * (room // len(fingerprint)))),
        ("whole-set search for one extra item", msg(whole_less_one)),
        ("ID_LIST of every id we hold", msg(id_list, True)),
        (
            "16 messages of fingerprint floods",
            b"\x00" + join_frames([head + fingerprint * (room // len(fingerprint))] * 16),
        ),
    ]


def _dns_header(qd: int, an: int, ns: int = 0, ar: int = 0) -> bytes:
    return struct.pack("!HHHHHH", 0, 0x8400, qd, an, ns, ar)


def discovery_bombs() -> list[tuple[str, bytes]]:
    from fuzz.corpus import seeds

    service = b"\x09_peernode\x04_tcp\x05local\x00"  # at offset 12, right after the header

    def ptr(i: int, name: bytes) -> bytes:  # PTR IN ttl 4500 -> "<i>._peernode._tcp.local."
        return name + b"\x00\x0c\x00\x01\x00\x00\x11\x94\x00\x06\x03" + b"%03d\xc0\x0c" % i

    many_ptrs = ptr(0, service) + b"".join(ptr(i, b"\xc0\x0c") for i in range(1, 480))
    txt = b"".join(bytes((254,)) + b"k=" + b"a" * 252 for _ in range(30))
    txt_record = (
        b"\x01x" + service + b"\x00\x10\x00\x01\x00\x00\x11\x94" + struct.pack("!H", len(txt)) + txt
    )
    return [
        ("header declaring 65535 of everything", _dns_header(0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF)),
        (
            "compression pointer loop",
            _dns_header(0, 1) + b"\xc0\x0c\x00\x0c\x00\x01\x00\x00\x00\x10\x00\x02\xc0\x0c",
        ),
        ("pointer chain of 2,000 hops", _dns_header(1, 0) + b"\xc0\x0c" * 2000),
        ("480 PTRs of our type", _dns_header(0, 480) + many_ptrs),
        ("TXT of 7.6 KB", _dns_header(0, 1) + txt_record),
        ("valid packet repeated to 9,000 bytes", (seeds("discovery")[0] * 40)[:9000]),
    ]


@dataclass(frozen=True, slots=True)
class BombResult:
    target: str
    bomb: str
    size: int
    result: str  # accepted, the rejecting exception, or the finding
    peak_bytes: int
    seconds: float
    within: bool  # within the limits


_Embed = Callable[[bytes], list[bytes]]

_EMBED: Final[dict[str, _Embed]] = {
    "codec": lambda b: [b],
    "event": lambda b: [_SIG + b],
    "event_signed": lambda b: [b],
    "wire": lambda b: [b, b"\x92\x01" + b],
    "handshake_msg1": lambda b: [b],
    "handshake_msg2": lambda b: [b],
    "handshake_msg3": lambda b: [b],
    "handshake_payload": lambda b: [b"\x00" + b, b"\x01" + b],
    "frame": lambda b: [b],
    "reconcile": lambda b: [b"\x00" + join_frames([b[:65535]])],
    "discovery": lambda b: [b],
}

_SIZE: Final[dict[str, tuple[int, int]]] = {
    # target: (size limit of what reaches the decoder, array length limit)
    "codec": (MAX_EVENT_BYTES, MAX_ARRAY_LEN),
    "event": (MAX_EVENT_BYTES - 64, MAX_ARRAY_LEN),
    "event_signed": (MAX_EVENT_BYTES - 64, MAX_ARRAY_LEN),
    "wire": (wire.MAX_DECODE_BYTES - 2, wire._MAX_ARRAY),
    "handshake_msg1": (1024, 8),
    "handshake_msg2": (1024, 8),
    "handshake_msg3": (1024, 8),
    "handshake_payload": (1023, 8),
    "frame": (65535, 4096),
    "reconcile": (RECONCILE_LIMITS[0] - 8, 4096),
    "discovery": (9000, 4096),
}


def bombs_for(name: str) -> list[tuple[str, bytes]]:
    size, max_array = _SIZE[name]
    out: list[tuple[str, bytes]] = []
    for label, bomb in msgpack_bombs(size, max_array):
        for i, data in enumerate(_EMBED[name](bomb)):
            out.append((label if i == 0 else f"{label} (nested)", data))
    if name == "wire":
        # The link's default frame limit: what a peer can really send with default settings.
        frame = 65519 - 2
        out += [
            (f"{label} [64 KiB frame]", data)
            for label, data in (
                (lbl, b) for lbl, b in msgpack_bombs(frame, wire._MAX_ARRAY) if "filling" in lbl
            )
        ]
    if name == "reconcile":
        out += reconcile_bombs()
    if name == "discovery":
        out += discovery_bombs()
    return out


def measure(names: list[str], limits: Limits) -> list[BombResult]:
    """Every bomb of every target in `names`; see measure_cases."""
    return measure_cases(
        [(name, label, data) for name in names for label, data in bombs_for(name)], limits
    )


def measure_cases(cases: list[tuple[str, str, bytes]], limits: Limits) -> list[BombResult]:
    """Run each (target, label, data) twice: under tracemalloc for the peak allocation above
    the baseline, then untraced for the CPU time (tracing slows allocation several times)."""
    unlimited = Limits(seconds=float("inf"), memory_bytes=2**62, hard_seconds=limits.hard_seconds)
    peaks: list[tuple[str, int]] = []
    with traced_memory():
        for name, _, data in cases:
            peaks.append(_run(name, data, unlimited))
    results = []
    for (name, label, data), (result, peak) in zip(cases, peaks, strict=True):
        start = time.process_time()
        _run(name, data, unlimited)
        seconds = time.process_time() - start
        within = (
            not result.startswith("FINDING")
            and peak <= limits.memory_bytes
            and seconds <= limits.seconds
        )
        results.append(BombResult(name, label, len(data), result, peak, seconds, within))
    return results


def _run(name: str, data: bytes, limits: Limits) -> tuple[str, int]:
    try:
        outcome = run_one(TARGETS[name], data, limits)
    except Finding as finding:
        return f"FINDING {finding.kind}: {finding.message}", 0
    return outcome.result, outcome.peak_bytes
