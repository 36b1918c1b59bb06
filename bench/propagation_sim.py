"""Gossip figures from the swarm simulator: delivery latency, payload copies, message cost.

Run: .venv/bin/python bench/propagation_sim.py --nodes 200 --loss 0.1 --events 50
Everything is simulated time (a fake clock), deterministic for a seed.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.protocol.sim import Net, Swarm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--loss", type=float, default=0.0)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warmup", type=float, default=30.0)
    args = parser.parse_args()

    started = time.perf_counter()
    swarm = Swarm(args.nodes, seed=args.seed, net=Net(loss=args.loss), trusted=True)
    swarm.run_for(args.warmup)
    degrees = collections.Counter(len(n.engine.peers()) for n in swarm.nodes)
    swarm.reset_counters()
    messages = swarm.messages
    latencies: list[float] = []
    for _ in range(args.events):
        event = swarm.post(swarm.rng.randrange(args.nodes))
        posted = swarm.now
        while swarm.holders(event.id) < args.nodes and swarm.now - posted < 120:
            swarm.run_for(0.05)
        latencies.append(swarm.now - posted)
        swarm.run_for(swarm.rng.uniform(0.5, 2.0))
    complete = sum(1 for n in swarm.nodes for i in swarm.published if i in n.store)
    print(f"nodes {args.nodes}, loss {args.loss:.0%}, events {args.events}, seed {args.seed}")
    print(f"links per node: {dict(sorted(degrees.items()))}")
    print(f"delivered: {complete}/{args.nodes * args.events}")
    print(
        "time to reach every node (s): median "
        f"{statistics.median(latencies):.2f}, max {max(latencies):.2f}"
    )
    print(f"payload copies per delivered event: {swarm.copies_per_delivery():.3f}")
    print(f"link messages per event: {(swarm.messages - messages) / args.events:.0f}")
    print(f"wall time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
