"""Inputs the fuzzing found (docs/fuzzing.md), kept so the bugs stay fixed."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator

import pytest
from zeroconf._dns import DNSPointer
from zeroconf._protocol.outgoing import DNSOutgoing
from zeroconf.const import _CLASS_IN, _FLAGS_AA, _FLAGS_QR_RESPONSE, _TYPE_PTR

from fuzz import targets
from peernode.net.discovery import SERVICE_TYPE, Discovery
from protocol import wire
from protocol.codec import unpack
from protocol.errors import DecodeError
from protocol.event import decode_event
from protocol.limits import MAX_ARRAY_LEN, MAX_EVENT_BYTES

MIB = 1024 * 1024


def _peak(call: object, *args: object) -> int:
    """Peak traced allocation of call(*args) above the baseline; DecodeError expected."""
    tracemalloc.start(1)
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        with pytest.raises(DecodeError):
            call(*args)  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


# -- 1. msgpack allocated every nested array's declared slots before checking the depth ------


def test_declared_length_tower_is_refused_before_msgpack_allocates() -> None:
    # 3 bytes per level, each declaring 4,096 elements: 3 KB made unpack allocate 31 MiB.
    tower = (b"\xdc" + MAX_ARRAY_LEN.to_bytes(2, "big")) * 1000 + b"\xc0"
    assert _peak(lambda: unpack(tower, max_bytes=MAX_EVENT_BYTES)) < MIB // 4
    with pytest.raises(DecodeError, match="nesting deeper than 16"):
        unpack(tower, max_bytes=MAX_EVENT_BYTES)
    # Through decode_event, behind a signature, it is the same decoder.
    assert _peak(lambda: decode_event(bytes(64) + tower)) < MIB // 4


def test_declared_length_tower_in_a_link_message() -> None:
    # wire allows 15,887-element arrays: the same 3 KB made wire.decode allocate 78 MiB.
    tower = (b"\xdc" + wire._MAX_ARRAY.to_bytes(2, "big")) * 1000 + b"\xc0"
    assert _peak(lambda: wire.decode(tower)) < MIB // 4


# -- 2. wire.decode turned 1 MiB of empty arrays or maps into 64-72 MiB and ~2 s of CPU ------


@pytest.mark.parametrize("empty", [b"\x90", b"\x80", b"\xc0"], ids=["arrays", "maps", "nils"])
def test_link_message_of_empty_containers_is_refused_cheaply(empty: bytes) -> None:
    inner = b"\xdc" + wire._MAX_ARRAY.to_bytes(2, "big") + empty * wire._MAX_ARRAY
    count = (wire.MAX_DECODE_BYTES - 3) // len(inner)
    frame = b"\xdc" + count.to_bytes(2, "big") + inner * count
    assert len(frame) <= wire.MAX_DECODE_BYTES
    start = time.process_time()
    peak = _peak(lambda: wire.decode(frame))
    assert peak < 2 * MIB
    assert time.process_time() - start < 1.0
    with pytest.raises(DecodeError, match="more than"):
        wire.decode(frame)


def test_largest_legitimate_events_frame_still_decodes() -> None:
    raw = b"\x01" * 64 + b"\x97\x01"
    frames = wire.events_frames([raw] * 20_000, wire.MAX_DECODE_BYTES)
    decoded = [wire.decode(frame) for frame in frames]
    assert sum(len(m.raws) for m in decoded if isinstance(m, wire.Events)) == 20_000


# -- 3. a spoofed PTR naming an instance zeroconf refuses killed the resolution task ---------


def _ptr_packet(*aliases: str) -> bytes:
    out = DNSOutgoing(_FLAGS_QR_RESPONSE | _FLAGS_AA)
    for alias in aliases:
        out.add_answer_at_time(DNSPointer(SERVICE_TYPE, _TYPE_PTR, _CLASS_IN, 4500, alias), 0)
    packets: list[bytes] = out.packets()
    return packets[0]


@pytest.fixture
def _loop() -> Iterator[None]:
    yield
    targets.close_loop()


BAD_NAMES = [
    "bad\x01name." + SERVICE_TYPE,  # a control character
    "X._PEERNODE._TCP.LOCAL.",  # our type in capitals: Discovery's lower-cased check passes
]


@pytest.mark.usefixtures("_loop")
@pytest.mark.parametrize("name", BAD_NAMES, ids=["control", "capitals"])
def test_spoofed_ptr_with_an_invalid_instance_name_is_skipped(name: str) -> None:
    # Before the fix, AsyncServiceInfo raised BadTypeInNameException inside the task.
    targets.fuzz_discovery(_ptr_packet(name))


async def test_resolve_once_skips_an_invalid_name_and_keeps_what_it_had() -> None:
    discovery = Discovery(public_key=bytes(32), port=7000, name="x", on_found=lambda hint: None)
    discovery._azc = object()  # type: ignore[assignment]  # never reached for a bad name
    assert await discovery._resolve_once("X._PEERNODE._TCP.LOCAL.") == (False, None, "")
