"""The send policy of a link: urgent frames ahead of bulk ones, bulk never starved, both bounded."""

from __future__ import annotations

import itertools

import pytest

from peernode.net.sendqueue import SendQueue
from peernode.net.transfer import CHUNK_BYTES, FIRST_CHUNK, STORED_CHUNK, next_chunk

FRAME = 64 * 1024


def frame(tag: str, size: int = FRAME) -> bytes:
    return tag.encode().ljust(size, b".")


def tags(queue: SendQueue) -> list[str]:
    """Pop everything, naming each frame by its tag."""
    out = []
    while (popped := queue.pop()) is not None:
        out.append(popped.rstrip(b".").decode())
    return out


def test_urgent_frames_go_ahead_of_bulk_frames_queued_before_them() -> None:
    queue = SendQueue(urgent_frames=8, bulk_bytes=10 * FRAME, bulk_after_bytes=4 * FRAME)
    for n in range(3):
        queue.put_bulk(frame(f"b{n}"))
    queue.put_urgent(frame("u0", 200))
    queue.put_urgent(frame("u1", 200))
    assert tags(queue) == ["u0", "u1", "b0", "b1", "b2"]


def test_an_urgent_frame_waits_behind_at_most_one_bulk_frame() -> None:
    queue = SendQueue(urgent_frames=64, bulk_bytes=100 * FRAME, bulk_after_bytes=2 * FRAME)
    for n in range(50):
        queue.put_bulk(frame(f"b{n}"))
    for n in range(20):
        queue.put_urgent(frame(f"u{n}"))
    order = tags(queue)
    urgent_at = [i for i, tag in enumerate(order) if tag.startswith("u")]
    gaps = [b - a - 1 for a, b in itertools.pairwise(urgent_at)]
    assert max(gaps) == 1  # between two urgent frames, one bulk frame at most
    assert order[:3] == ["u0", "u1", "b0"]


def test_bulk_keeps_its_share_while_urgent_frames_keep_coming() -> None:
    """Urgent frames arriving as fast as they are written never starve bulk: one bulk
    frame goes after every bulk_after_bytes of urgent ones."""
    queue = SendQueue(urgent_frames=64, bulk_bytes=100 * FRAME, bulk_after_bytes=3 * FRAME)
    for n in range(10):
        queue.put_bulk(frame(f"b{n}"))
    written: list[str] = []
    for n in range(40):
        assert queue.put_urgent(frame(f"u{n}"))
        popped = queue.pop()
        assert popped is not None
        written.append(popped.rstrip(b".").decode())
    bulk = [tag for tag in written if tag.startswith("b")]
    assert bulk == [f"b{n}" for n in range(10)]  # in order, one in every four frames
    assert written[:4] == ["u0", "u1", "u2", "b0"]


def test_the_urgent_queue_is_bounded_in_frames() -> None:
    queue = SendQueue(urgent_frames=3, bulk_bytes=FRAME, bulk_after_bytes=FRAME)
    assert all(queue.put_urgent(frame(f"u{n}", 10)) for n in range(3))
    assert not queue.put_urgent(frame("u3", 10))
    assert tags(queue) == ["u0", "u1", "u2"]


def test_the_bulk_queue_is_bounded_in_bytes() -> None:
    queue = SendQueue(urgent_frames=3, bulk_bytes=2 * FRAME, bulk_after_bytes=FRAME)
    queue.put_bulk(frame("b0"))
    assert queue.bulk_room()
    queue.put_bulk(frame("b1"))
    assert not queue.bulk_room()
    assert queue.bulk_bytes == 2 * FRAME
    queue.pop()
    assert queue.bulk_room()
    assert queue.bulk_bytes == FRAME


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        SendQueue(urgent_frames=0, bulk_bytes=FRAME, bulk_after_bytes=FRAME)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (60_000, FIRST_CHUNK),  # large events: the smallest read
        (300, STORED_CHUNK),  # small notes: the largest read
        (8_000, CHUNK_BYTES // 8_000),  # in between: about CHUNK_BYTES
    ],
)
def test_reads_for_a_peer_bring_about_a_fixed_number_of_bytes(size: int, expected: int) -> None:
    assert next_chunk(FIRST_CHUNK, FIRST_CHUNK * size) == expected


def test_a_read_that_found_nothing_reads_the_most_next() -> None:
    assert next_chunk(FIRST_CHUNK, 0) == STORED_CHUNK
