"""Propagation benchmark: 30 real nodes on loopback, notes posted at random nodes.

Run: .venv/bin/python bench/propagation.py [--nodes 30] [--notes 50] [--seed 1]

All nodes run in this process (one event loop), each a separate Node with its own home,
database and listening socket, linked over real loopback WebSockets + Noise. Node i is
given one or two random earlier nodes as `peers` (a connected random start), then the
gossip layer builds its own overlay. After a warm-up (the overlay settles, a few notes
let Plumtree prune its tree), notes are posted one by one at random nodes. Prints, per
note, the time from post to arrival at each other node (p50/p95/max of all arrivals and
of the last arrival per note), and payload copies received per event delivered: the sum
over all links of event payloads received, duplicates included (PeerView.events_received),
divided by deliveries. Figures only, no pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from loopwatch import LoopWatch  # bench/loopwatch.py: scripts run from bench/

import peernode.net.network  # noqa: F401  (imported up front, not on the loop at start-up)
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.net.network import Network
from peernode.node import Node, NodeConfig, Subscription

HOST = "127.0.0.1"


class Arrivals:
    """When each node first had each event (from its subscription)."""

    def __init__(self, nodes: Sequence[Node]) -> None:
        self.seen: list[dict[bytes, float]] = [{} for _ in nodes]
        self._subs: list[Subscription] = [node.subscribe() for node in nodes]
        self._tasks = [
            asyncio.create_task(self._collect(i, sub)) for i, sub in enumerate(self._subs)
        ]

    async def _collect(self, i: int, subscription: Subscription) -> None:
        loop = asyncio.get_running_loop()
        async for event in subscription:
            self.seen[i].setdefault(event.id, loop.time())

    async def stop(self, nodes: Sequence[Node]) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for node, sub in zip(nodes, self._subs, strict=True):
            node.unsubscribe(sub)


class Received:
    """Event payloads received over every link, duplicates included, links that closed too."""

    def __init__(self, networks: Sequence[Network]) -> None:
        self._networks = networks
        self._last: dict[tuple[int, bytes], int] = {}
        self._gone = 0

    def poll(self) -> int:
        current: dict[tuple[int, bytes], int] = {}
        for i, net in enumerate(self._networks):
            for view in net.engine.peers():
                current[(i, view.key)] = view.events_received
        for key, value in self._last.items():
            now = current.get(key)
            if now is None or now < value:  # the link closed (or was replaced): keep its count
                self._gone += value
        self._last = current
        return self._gone + sum(current.values())


async def start_nodes(root: Path, count: int, rng: random.Random) -> list[Node]:
    nodes: list[Node] = []
    ports: list[int] = []
    for i in range(count):
        earlier = rng.sample(range(i), min(i, 1 if i < 3 else 2))
        peers = tuple((HOST, ports[j]) for j in earlier)
        network = NetworkConfig(port=0, host=HOST, mdns=False, peers=peers)
        node = Node(Home(root / f"n{i:02d}"), NodeConfig(network=network, verify_workers=1))
        await node.__aenter__()
        nodes.append(node)
        await node.create_identity(f"node{i:02d}")
        await node.start_network()
        net = node._network
        assert net is not None
        assert net.port is not None
        ports.append(net.port)
    return nodes


async def wait_for(check: object, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert callable(check)
        if await check():
            return True
        await asyncio.sleep(0.1)
    return False


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        nodes = await start_nodes(Path(tmp), args.nodes, rng)
        networks = [node._network for node in nodes]
        assert all(net is not None for net in networks)
        nets: list[Network] = [net for net in networks if net is not None]
        try:
            total = len(nodes)

            async def all_profiles() -> bool:
                return all(len(node.profiles()) == total for node in nodes)

            async def all_linked() -> bool:
                return all(any(v.linked for v in net.engine.peers()) for net in nets)

            ok = await wait_for(all_linked, 60) and await wait_for(all_profiles, 60)
            links = [len([v for v in net.engine.peers() if v.linked]) for net in nets]
            print(
                f"{total} nodes up in {time.perf_counter() - started:.1f} s"
                f"{'' if ok else ' (NOT all linked / profiles everywhere)'};"
                f" active links per node: min {min(links)}, mean {statistics.mean(links):.1f},"
                f" max {max(links)}",
                flush=True,
            )
            arrivals = Arrivals(nodes)
            received = Received(nets)
            watch = LoopWatch(period=0.005)
            watch.start()

            async def post(k: int, label: str) -> tuple[bytes, int, float]:
                origin = rng.randrange(total)
                event = await nodes[origin].post(f"{label} note {k}")
                posted = arrivals.seen[origin].get(event.id, loop.time())
                return event.id, origin, posted

            async def delivered(event_id: bytes) -> bool:
                return all(event_id in seen for seen in arrivals.seen)

            for k in range(args.warmup):
                event_id, _, _ = await post(k, "warm-up")
                await wait_for(lambda e=event_id: delivered(e), 10)
                await asyncio.sleep(args.gap)
            await asyncio.sleep(0.5)
            base = received.poll()
            watch.lags.clear()
            posts: list[tuple[bytes, int, float]] = []
            for k in range(args.notes):
                posts.append(await post(k, "measured"))
                await asyncio.sleep(args.gap)
                received.poll()
            everything = await wait_for(lambda: _all_delivered(arrivals, [p[0] for p in posts]), 30)
            await asyncio.sleep(1.0)  # late duplicates still count
            copies = received.poll() - base
            await arrivals.stop(nodes)
            await watch.stop()
            latencies: list[float] = []
            last: list[float] = []
            missing = 0
            for event_id, origin, posted in posts:
                times = [
                    seen[event_id] - posted
                    for i, seen in enumerate(arrivals.seen)
                    if i != origin and event_id in seen
                ]
                missing += total - 1 - len(times)
                latencies.extend(times)
                if times:
                    last.append(max(times))
            deliveries = len(latencies)
            print(
                f"{args.notes} notes posted {args.gap * 1000:.0f} ms apart at random nodes"
                f" (after {args.warmup} warm-up notes); {deliveries} deliveries"
                f"{'' if everything else f', {missing} MISSING after 30 s'}"
            )
            print(
                f"  arrival latency, all deliveries: p50 {_pct(latencies, 50):.1f} ms,"
                f" p95 {_pct(latencies, 95):.1f} ms, max {max(latencies) * 1000:.1f} ms"
            )
            print(
                f"  last arrival per note:          p50 {_pct(last, 50):.1f} ms,"
                f" p95 {_pct(last, 95):.1f} ms"
            )
            print(
                f"  payload copies received per event delivered: {copies / deliveries:.2f}"
                f" ({copies} payloads for {deliveries} deliveries)"
            )
            print(
                f"  event loop (all {total} nodes share it): stall max {watch.max_lag * 1000:.1f}"
                f" ms, p99 {watch.percentile(99) * 1000:.1f} ms"
            )
        finally:
            for node in nodes:
                with contextlib.suppress(Exception):
                    await node.__aexit__(None, None, None)


async def _all_delivered(arrivals: Arrivals, ids: list[bytes]) -> bool:
    return all(event_id in seen for seen in arrivals.seen for event_id in ids)


def _pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return max(values, default=0.0) * 1000
    return statistics.quantiles(values, n=100)[q - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--nodes", type=int, default=30)
    parser.add_argument("--notes", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--gap", type=float, default=0.1, help="seconds between posts")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(run(args))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS: {peak / (1024 * 1024) if sys.platform == 'darwin' else peak / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
