"""Reconciliation figures at 100k events: round trips, bytes and time per difference size.

Run: .venv/bin/python bench/reconcile.py
Figures only, no pass/fail. A round trip is one message each way; bytes count both ways.
"""

from __future__ import annotations

import math
import random
import time

from protocol.reconcile import ItemIndex, Reconciler

SHARED = 100_000
LIMIT = 64 * 1024
BASE_TS = 1_700_000_000_000
SPAN_MS = 90 * 86_400_000  # three months of events


def make_items(count: int, seed: int) -> list[tuple[int, bytes]]:
    rnd = random.Random(seed)
    return [(BASE_TS + rnd.randrange(SPAN_MS), rnd.randbytes(32)) for _ in range(count)]


def run(mine: ItemIndex, theirs: ItemIndex, limit: int = LIMIT) -> tuple[int, int, int, float, int]:
    """Round trips, total bytes, largest message, seconds and ids found for one session."""
    start = time.perf_counter()
    initiator = Reconciler(mine, max_message_bytes=limit)
    responder = Reconciler(theirs, max_message_bytes=limit)
    sizes: list[int] = []
    found = 0
    message: bytes | None = initiator.initiate()
    while message is not None:
        sizes.append(len(message))
        reply = responder.receive(message).reply
        assert reply is not None
        sizes.append(len(reply))
        result = initiator.receive(reply)
        found += len(result.have) + len(result.need)
        message = result.reply
    elapsed = time.perf_counter() - start
    return math.ceil(len(sizes) / 2), sum(sizes), max(sizes), elapsed, found


def main() -> None:
    items = make_items(SHARED + 2000, 1)
    common, extra = items[:SHARED], items[SHARED:]

    start = time.perf_counter()
    index = ItemIndex(common)
    index.position((0, b""))  # sorting and prefix sums happen on the first query
    print(f"index build, {SHARED:,} items: {time.perf_counter() - start:.3f} s")
    fresh = make_items(1000, 2)
    start = time.perf_counter()
    for n, (_, event_id) in enumerate(fresh):
        index.add(BASE_TS + SPAN_MS + n, event_id)  # new events sort last: appended
        index.position((0, b""))
    each = (time.perf_counter() - start) * 1e6 / len(fresh)
    print(f"new event + query, each:       {each:.1f} us")
    start = time.perf_counter()
    index.add_many(extra[:1000])  # old events land all over: the prefix sums are redone
    index.position((0, b""))
    print(f"1,000 old events + query:      {(time.perf_counter() - start) * 1000:.1f} ms")
    print()

    header = f"{'case':<34}{'round trips':>12}{'bytes':>11}{'B/diff':>9}{'max msg':>9}{'time':>9}"
    print(header)
    print("-" * len(header))
    cases = [
        ("d=0", 0, 0),
        ("d=1, initiator has it", 1, 0),
        ("d=1, responder has it", 0, 1),
        ("d=10, all on initiator", 10, 0),
        ("d=10, all on responder", 0, 10),
        ("d=10, 5 each side", 5, 5),
        ("d=1000, all on initiator", 1000, 0),
        ("d=1000, all on responder", 0, 1000),
        ("d=1000, 500 each side", 500, 500),
    ]
    for name, on_mine, on_theirs in cases:
        mine = ItemIndex(common + extra[:on_mine])
        theirs = ItemIndex(common + extra[1000 : 1000 + on_theirs])
        mine.position((0, b""))
        theirs.position((0, b""))
        trips, total, largest, elapsed, found = run(mine, theirs)
        assert found == on_mine + on_theirs, (name, found)
        per = f"{total / found:.0f}" if found else "-"
        print(f"{name:<34}{trips:>12}{total:>11,}{per:>9}{largest:>9,}{elapsed:>8.2f}s")

    full = ItemIndex(common)
    for name, mine, theirs in [
        ("fresh initiator vs 100k", ItemIndex(), full),
        ("100k initiator vs fresh", full, ItemIndex()),
    ]:
        trips, total, largest, elapsed, found = run(mine, theirs)
        per = f"{total / found:.0f}"
        print(f"{name:<34}{trips:>12}{total:>11,}{per:>9}{largest:>9,}{elapsed:>8.2f}s")
    print(f"\nmessages capped at {LIMIT:,} bytes")


if __name__ == "__main__":
    main()
