"""Flood benchmark: a peer pushing N events/s at a real node while an honest peer posts.

Run: .venv/bin/python bench/flood.py [--rate 1000] [--seconds 8] [--runs 3]

Three in-process nodes linked over loopback (tests/support/flooding.py): Vera, honest Hal
posting a note every 0.25 s, and Rogue writing its own validly signed notes straight onto
its link to Vera. Each run is done twice: without a flood (the baseline) and with one.
Prints Hal's post → stored-at-Vera delay (p50/max) for both, how much of the flood Vera
stored, how long until she closed the rogue link and why, and whether it got back in.
Figures only, no pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.flooding import FloodResult, run_flood


def _ms(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"p50 {statistics.median(ordered) * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"


async def _one(rate: int, seconds: float) -> FloodResult:
    with tempfile.TemporaryDirectory(prefix="pn-flood-") as tmp:
        return await run_flood(Path(tmp), rate=rate, seconds=seconds)


async def main(rate: int, seconds: float, runs: int) -> None:
    for run in range(1, runs + 1):
        quiet = await _one(0, seconds)
        flood = await _one(rate, seconds)
        print(f"run {run}:")
        print(f"  honest delay, no flood : {_ms(quiet.honest_delays)} ({quiet.honest_sent} notes)")
        print(
            f"  honest delay, flooding : {_ms(flood.honest_delays)} ({flood.honest_sent} notes,"
            f" {flood.honest_missing} missing)"
        )
        if quiet.honest_delays and flood.honest_delays:
            ratio = statistics.median(flood.honest_delays) / statistics.median(quiet.honest_delays)
            print(f"  p50 ratio flood/quiet  : {ratio:.2f}")
        print(
            f"  flood: offered {flood.offered} events in {flood.flood_seconds:.2f} s"
            f" ({flood.offered / max(flood.flood_seconds, 1e-9):.0f}/s), stored {flood.stored}"
        )
        print(f"  closed: {flood.closed_reason or 'not closed'}")
        print(f"  dialled again and refused: {flood.refused_again}; relinked: {flood.relinked}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="flood events per second")
    parser.add_argument("--seconds", type=float, default=8.0, help="longest flood")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.rate, args.seconds, args.runs))
