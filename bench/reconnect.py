"""Reconnection benchmark: an honest peer killed (SIGKILL) and started again, over and over.

Run: .venv/bin/python bench/reconnect.py [--restarts 5] [--down 2.0] [--up 6.0] [--mdns]

Node V (the victim of issue 16's baseline) runs in this process; node H runs as a
subprocess of this same script (`--honest`), a real Node with its own home, database
and listening port on loopback. H posts a note every 100 ms from the moment the node is
open (its first ones while its network is still starting) and prints each note's id
and time. H is given V's address only in its first run; after that it finds V as a
remembered peer (and V finds H the same way), as `peernode serve` does. Each round: H
runs `--up` seconds once its network is up, is killed with SIGKILL, stays down
`--down` seconds, and is started again on the same port. Prints, per run of H, the time
from its spawn to its network being started, to V holding an active link to it and to
the first of its notes arriving at V; how many of its notes took over 1 s or never
arrived; and over all notes the latency from post to arrival at V (p50, p95, max).
With --mdns both nodes also announce and browse over real mDNS. Figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import peernode.net.network  # noqa: F401  (imported up front, not on the loop at start-up)
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.net.network import Network
from peernode.node import Node, NodeConfig

HOST = "127.0.0.1"
POST_EVERY = 0.1


def config(port: int, peers: tuple[tuple[str, int], ...], mdns: bool) -> NodeConfig:
    network = NetworkConfig(port=port, host=HOST, mdns=mdns, peers=peers)
    return NodeConfig(network=network, verify_workers=1, watch=False, api=None)


async def honest(home: Path, port: int, peer: str, mdns: bool) -> None:
    """The child: start (the first time, with V's address), then post until killed."""
    peers = ((HOST, int(peer)),) if peer else ()
    node = Node(Home(home), config(port, peers, mdns))
    await node.__aenter__()
    # The learner posts as soon as the node is open, while its network is still starting.
    posting = asyncio.create_task(post_forever(node))
    await node.start_network()
    print(f"ready {time.time():.6f}", flush=True)
    await posting


async def post_forever(node: Node) -> None:
    n = 0
    while True:
        n += 1
        event = await node.post(f"honest note {os.getpid()}-{n}")
        print(f"posted {event.id.hex()} {time.time():.6f}", flush=True)
        await asyncio.sleep(POST_EVERY)


@dataclass
class Round:
    spawned: float
    ready: float | None = None
    linked: float | None = None
    posted: dict[bytes, float] = field(default_factory=dict)
    killed: float | None = None
    up: asyncio.Event = field(default_factory=asyncio.Event)


class Honest:
    """H as a subprocess: started, read, killed."""

    def __init__(self, home: Path, port: int, mdns: bool) -> None:
        self.home, self.port, self.mdns = home, port, mdns
        self.rounds: list[Round] = []
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self, peer: int | None) -> Round:
        argv = [sys.executable, __file__, "--honest", str(self.home), "--port", str(self.port)]
        argv += ["--peer", str(peer or "")] + (["--mdns"] if self.mdns else [])
        log = (self.home.parent / "honest.log").open("ab")
        self._proc = await asyncio.create_subprocess_exec(
            *argv, stdout=subprocess.PIPE, stderr=log, env={**os.environ}
        )
        log.close()
        round_ = Round(time.time())
        self.rounds.append(round_)
        self._reader = asyncio.create_task(self._read(round_))
        return round_

    async def _read(self, round_: Round) -> None:
        assert self._proc is not None
        assert self._proc.stdout is not None
        async for line in self._proc.stdout:
            what, *rest = line.decode().split()
            if what == "ready":
                round_.ready = float(rest[0])
                round_.up.set()
            elif what == "posted":
                round_.posted[bytes.fromhex(rest[0])] = float(rest[1])

    async def kill(self) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self._proc.send_signal(signal.SIGKILL)
        await self._proc.wait()
        self.rounds[-1].killed = time.time()
        if self._reader is not None:
            await self._reader


async def watch_arrivals(node: Node, seen: dict[bytes, float]) -> None:
    subscription = node.subscribe()
    try:
        async for event in subscription:
            seen.setdefault(event.id, time.time())
    finally:
        node.unsubscribe(subscription)


async def watch_link(network: Network, honest: Honest) -> None:
    """Note when V first holds an active link to H (its only peer) in each round."""
    while True:
        round_ = honest.rounds[-1] if honest.rounds else None
        linked = any(view.linked for view in network.engine.peers())
        if round_ is not None and round_.linked is None and linked:
            round_.linked = time.time()
        await asyncio.sleep(0.005)


async def up(round_: Round, limit: float = 120.0) -> None:
    """Wait until H's network is up (a loaded machine takes seconds to start Python)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(round_.up.wait(), limit)


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        async with Node(Home(root / "h"), NodeConfig(network=None)) as made:
            await made.create_identity("honest")
            honest_key = made.public_key
        victim = Node(Home(root / "v"), config(0, (), args.mdns))
        await victim.__aenter__()
        await victim.create_identity("victim")
        # An honest peer linked with before, not a stranger under the daily budget (300).
        victim.trust_peer(honest_key)
        await victim.start_network()
        network = victim._network
        assert network is not None
        assert network.port is not None
        seen: dict[bytes, float] = {}
        honest = Honest(root / "h", args.port, args.mdns)
        tasks = [
            asyncio.create_task(watch_arrivals(victim, seen)),
            asyncio.create_task(watch_link(network, honest)),
        ]
        try:
            await up(await honest.start(network.port))
            for _ in range(args.restarts):
                await asyncio.sleep(args.up)
                await honest.kill()
                await asyncio.sleep(args.down)
                await up(await honest.start(None))
            await asyncio.sleep(args.up)
            cutoff = time.time()  # the last run keeps going: its later notes are not counted
            await asyncio.sleep(args.settle)
            await honest.kill()
            report(honest.rounds, seen, cutoff)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await honest.kill()
            await victim.__aexit__(None, None, None)


def report(rounds: list[Round], seen: dict[bytes, float], cutoff: float) -> None:
    latencies: list[float] = []
    missing = late = 0
    print("restart  (from spawn:) network up  V linked  first note at V  notes  >1 s  missing  max")
    for number, round_ in enumerate(rounds):
        posted = {i: t for i, t in round_.posted.items() if t < cutoff}
        arrived = [seen[i] for i in posted if i in seen and seen[i] > round_.spawned]
        first = min(arrived, default=None)
        own = [seen[i] - t for i, t in posted.items() if i in seen]
        lost = sum(1 for i in posted if i not in seen)
        slow = sum(1 for latency in own if latency > 1.0)
        latencies += own
        missing += lost
        late += slow
        spawned = round_.spawned
        print(
            f"{'first' if number == 0 else number:>7}  {_s(round_.ready, spawned):>25}"
            f" {_s(round_.linked, spawned)} {_s(first, spawned):>16}"
            f"  {len(posted):>5}  {slow:>4}  {lost:>7}  {max(own, default=0.0) * 1000:5.0f} ms"
        )
    if len(latencies) >= 2:
        q = statistics.quantiles(latencies, n=100)
        print(
            f"all notes: {len(latencies) + missing}, latency p50 {q[49] * 1000:.0f} ms,"
            f" p95 {q[94] * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms;"
            f" over 1 s: {late} (those posted as H was killed wait for its return);"
            f" never arrived: {missing}"
        )


def _s(later: float | None, earlier: float | None) -> str:
    if later is None or earlier is None:
        return "never"
    return f"{later - earlier:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--down", type=float, default=2.0, help="seconds H stays dead")
    parser.add_argument("--up", type=float, default=6.0, help="seconds H runs each time")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds waited at the end")
    parser.add_argument("--port", type=int, default=0, help="H's port (default: a free one)")
    parser.add_argument("--mdns", action="store_true", help="announce and browse over mDNS")
    parser.add_argument("--honest", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--peer", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.honest is not None:
        asyncio.run(honest(args.honest, args.port, args.peer, args.mdns))
        return
    if not args.port:
        import socket

        with socket.socket() as sock:
            sock.bind((HOST, 0))
            args.port = sock.getsockname()[1]
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
