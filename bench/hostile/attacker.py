"""The attacking node: runs one attack from its namespace, then prints what it did.

    python -m bench.hostile.attacker --target 10.77.0.1:7420 --sources 10.77.0.3,... \
        --world DIR --attack NAME --duration 20

It prints `ready` once it has prepared (signed what it will send) and the attack's
clock starts. The last line of its output is one JSON object: links made and refused, bytes sent and
received (frames on the wire, after encryption) and the attack's own counters. SIGTERM
ends the attack early and still prints it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import time
from pathlib import Path

from bench.hostile.attacks import ATTACKS, PREPARE, Ctx
from bench.hostile.world import World, items


async def run(args: argparse.Namespace) -> Ctx:
    host, _, port = args.target.rpartition(":")
    world = World(args.world, json.loads((args.world / "world.json").read_text()))
    ctx = Ctx(
        host=host,
        port=int(port),
        sources=args.sources.split(","),
        deadline=0.0,
        facts=world.facts,
        items=items(world),
    )
    prepare = PREPARE.get(args.attack)
    if prepare is not None:
        prepare(ctx)
    print("ready", flush=True)  # the runner's clock starts here
    ctx.deadline = time.monotonic() + args.duration
    attack, _ = ATTACKS[args.attack]
    task = asyncio.ensure_future(attack(ctx))
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return ctx


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="HOST:PORT of the victim")
    parser.add_argument("--sources", required=True, help="comma-separated source addresses")
    parser.add_argument("--world", type=Path, required=True)
    parser.add_argument("--attack", choices=sorted(ATTACKS), required=True)
    parser.add_argument("--duration", type=float, default=60.0)
    args = parser.parse_args(argv)
    ctx = asyncio.run(run(args))
    t = ctx.traffic
    report = {
        "links": t.links,
        "refused": t.refused,
        "sent": t.sent,
        "received": t.received,
        **ctx.notes,
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
