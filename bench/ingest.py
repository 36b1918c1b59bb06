"""Ingest benchmark: decode + verify + store 100k events, against raw Ed25519 verify.

Run: .venv/bin/python bench/ingest.py [--events N]
Prints events/s for each path and its ratio to single-core raw verification
measured in the same run, plus peak RSS. Figures only, no pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from peernode.home import Home
from peernode.node import Node, NodeConfig
from peernode.storage.store import Store
from protocol.event import SIGNING_CONTEXT, Event, create_event, decode_event
from protocol.identity import SigningKey

BATCH = 1000


def make_events(count: int) -> list[Event]:
    authors = [SigningKey.from_seed(bytes([i]) * 32) for i in range(20)]
    return [
        create_event(
            authors[i % len(authors)],
            kind="peernode/note@1",
            circle=f"circle-{i % 7}",
            body={"text": f"note {i}: " + "a study note of ordinary length. " * 6},
            created_at=1_700_000_000_000 + i,
        )
        for i in range(count)
    ]


def raw_verify_rate(events: list[Event]) -> float:
    """Ed25519 verification alone, one core: the ceiling for single-threaded ingest."""
    keys = {e.author: Ed25519PublicKey.from_public_bytes(e.author) for e in events}
    jobs = [(keys[e.author], e.signature, SIGNING_CONTEXT + e.raw[64:]) for e in events]
    started = time.perf_counter()
    for key, signature, message in jobs:
        key.verify(signature, message)
    return len(jobs) / (time.perf_counter() - started)


def single_threaded(raws: list[bytes], directory: Path) -> float:
    store = Store(directory / "single.db")
    started = time.perf_counter()
    for start in range(0, len(raws), BATCH):
        events = [decode_event(raw) for raw in raws[start : start + BATCH]]
        store.insert_events(events, received_at=0)
    elapsed = time.perf_counter() - started
    assert store.count() == len(raws)
    store.close()
    return len(raws) / elapsed


async def pooled(raws: list[bytes], directory: Path, workers: int) -> float:
    home = Home(directory / f"pool{workers}")
    async with Node(home, NodeConfig(verify_workers=workers, watch=False)) as node:
        started = time.perf_counter()
        for start in range(0, len(raws), BATCH * 4):
            await node.ingest(raws[start : start + BATCH * 4])
        elapsed = time.perf_counter() - started
        assert await node.event_count() == len(raws)
    return len(raws) / elapsed


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()

    print(f"signing {args.events} events ...", flush=True)
    events = make_events(args.events)
    raws = [event.raw for event in events]
    baseline = raw_verify_rate(events[: min(len(events), 20_000)])
    print(f"raw Ed25519 verify, 1 core:     {baseline:9.0f} events/s  (ratio 1.00)")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        rate = single_threaded(raws, directory)
        print(f"decode+verify+store, 1 thread: {rate:9.0f} events/s  ratio {rate / baseline:.2f}")
        for workers in (2, 4):
            rate = asyncio.run(pooled(raws, directory, workers))
            print(
                f"node.ingest, pool of {workers}:       {rate:9.0f} events/s"
                f"  ratio {rate / baseline:.2f}"
            )
    print(f"peak RSS: {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
