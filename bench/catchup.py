"""Catch-up benchmark: a fresh node links to one holding 100k events and fetches them all.

Run: .venv/bin/python bench/catchup.py [--events N] [--in-process]

Node A (the home with the events) runs as a `peernode serve` subprocess, so node B (fresh,
in this process) has its event loop to itself and the loop figures are B's alone; with
--in-process both nodes share this process and its loop. Prints events/s and its ratio to
single-core raw Ed25519 verification measured in the same run, time to the first event,
the event-loop stall of B (lag of a 5 ms-period probe task during catch-up) and peak RSS.
Figures only, no pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from loopwatch import LoopWatch  # bench/loopwatch.py: scripts run from bench/

from peernode.home import Home

# Node.start_network() imports the networking modules (aiohttp) on first use, a one-off
# pause of a few hundred ms: done here so the loop figures are those of the catch-up.
import peernode.net.network  # noqa: F401  isort: skip
from peernode.net.config import NetworkConfig
from peernode.net.serving import ServingConfig
from peernode.node import Node, NodeConfig
from peernode.storage.store import Store
from protocol.event import SIGNING_CONTEXT, Event, create_event
from protocol.identity import SigningKey

SIGN_CHUNK = 5_000
PROBE_PERIOD = 0.005
BUDGET = ServingConfig()
UNLIMITED = ServingConfig(peer_rate=1e15, peer_burst=1e15, total_rate=1e15, total_burst=1e15)


def _sign_range(start: int, stop: int, seed: bytes) -> list[Event]:
    # Written by A itself: B names A (--peer), so A's events are familiar and stored in
    # full; other authors would be strangers, of whom admission stores a few hundred.
    author = SigningKey.from_seed(seed)
    return [
        create_event(
            author,
            kind="peernode/note@1",
            circle=f"circle-{i % 7}",
            body={"text": f"note {i}: " + "a study note of ordinary length. " * 6},
            created_at=1_700_000_000_000 + i,
        )
        for i in range(start, stop)
    ]


def build_home(home: Home, count: int) -> list[Event]:
    """A home with an identity and `count` stored events, signed on every core."""
    home.ensure()
    seed = home.create_key().seed()
    store = Store(home.db_path)
    sample: list[Event] = []
    ranges = [(start, min(count, start + SIGN_CHUNK)) for start in range(0, count, SIGN_CHUNK)]
    # No thread or loop exists yet, so fork is safe and the fastest start.
    with ProcessPoolExecutor(os.cpu_count(), mp_context=multiprocessing.get_context("fork")) as ex:
        for events in ex.map(_sign_range, *zip(*ranges, strict=True), [seed] * len(ranges)):
            store.insert_events(events, received_at=0)
            if len(sample) < 2_000:
                sample.extend(events[: 2_000 - len(sample)])
    store.close()
    return sample


def raw_verify_rate(events: Sequence[Event], rounds: int = 3) -> float:
    """Ed25519 verification alone, one core: the baseline of the ratio (best of `rounds`)."""
    keys = {e.author: Ed25519PublicKey.from_public_bytes(e.author) for e in events}
    jobs = [(keys[e.author], e.signature, SIGNING_CONTEXT + e.raw[64:]) for e in events]
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        for key, signature, message in jobs:
            key.verify(signature, message)
        best = max(best, len(jobs) / (time.perf_counter() - started))
    return best


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"node A exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise SystemExit("node A did not start listening")


async def catch_up(
    home_b: Home, port_a: int, count: int, time_limit: float, diagnose: bool = False
) -> dict[str, Any]:
    config = NodeConfig(
        network=NetworkConfig(port=0, host="127.0.0.1", mdns=False, peers=(("127.0.0.1", port_a),))
    )
    probe = LoopWatch(period=PROBE_PERIOD, sample_stacks=diagnose, step_cpu=True)
    async with Node(home_b, config) as node:
        node.ensure_identity()
        subscription = node.subscribe()
        probe.recording = False
        probe.start()
        await asyncio.sleep(0.1)
        probe.recording = True
        started = time.perf_counter()
        first = 0.0
        received = 0
        await node.start_network()
        deadline = started + time_limit
        report = started + 5.0
        while received < count and time.perf_counter() < deadline:
            if time.perf_counter() > report:
                report += 5.0
                print(f"  ... {received} events after {report - 5 - started:.0f} s", flush=True)
            try:
                await asyncio.wait_for(subscription.queue.get(), 1.0)
            except TimeoutError:
                continue
            if not first:
                first = time.perf_counter()
            received += 1 + len(subscription.drain(100_000))
            if subscription.overflowed:  # fell behind (never seen): count what is stored
                received = await node.event_count()
        finished = time.perf_counter()
        caught_up = LoopWatch.summary(probe.lags)
        caught_up_step = probe.max_step_cpu
        tracked = len(gc.get_objects())
        # Then until the link reports in sync: the follow-up reconciliation runs meanwhile.
        synced = 0.0
        while time.perf_counter() < finished + 30:
            peers = (await node.status()).peers
            if any(peer.linked and peer.in_sync for peer in peers):
                synced = time.perf_counter()
                break
            await asyncio.sleep(0.05)
        probe.recording = False
        await probe.stop()
        stored = await node.event_count()
        node.unsubscribe(subscription)
    if diagnose:
        print(probe.report(), flush=True)
    whole = LoopWatch.summary(probe.lags)
    return {
        "elapsed": finished - started,
        "first": (first or finished) - started,
        "received": received,
        "stored": stored,
        "stall_max": caught_up[0],
        "stall_p99": caught_up[1],
        "step_max": caught_up_step,
        "steps_over": float(sum(1 for cpu in probe.step_cpu if cpu > 0.010)),
        "sync_step_max": probe.max_step_cpu,
        "gc": probe.gc_summary(),
        "tracked": tracked,
        "synced": (synced - started) if synced else 0.0,
        "sync_stall_max": whole[0],
        "sync_stall_p99": whole[1],
        "overflowed": float(subscription.overflowed),
    }


async def catch_up_in_process(
    home_a: Home,
    home_b: Home,
    count: int,
    time_limit: float,
    diagnose: bool,
    serving: ServingConfig = BUDGET,
) -> dict[str, Any]:
    net = NetworkConfig(port=0, host="127.0.0.1", mdns=False, serving=serving)
    async with Node(home_a, NodeConfig(network=net)) as node_a:
        await node_a.start_network()
        status = await node_a.status()
        assert status.port is not None
        return await catch_up(home_b, status.port, count, time_limit, diagnose)


class CpuMeter:
    """CPU seconds used by this process and by its children, per phase, and by the machine."""

    def __init__(self) -> None:
        self._self = _cpu(resource.RUSAGE_SELF)
        self._children = _cpu(resource.RUSAGE_CHILDREN)
        self._machine = _machine_busy()
        self._started = time.perf_counter()
        self.parts: list[tuple[str, float]] = []
        self.machine = 0.0
        self.wall = 0.0

    def mark(self, own: str | None, children: str) -> None:
        now_self, now_children = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
        if own is not None:
            self.parts.append((own, now_self - self._self))
            self.machine = _machine_busy() - self._machine
            self.wall = time.perf_counter() - self._started
        self.parts.append((children, now_children - self._children))
        self._self, self._children = now_self, now_children

    def report(self, events: int, elapsed: float) -> str:
        ours = sum(seconds for _, seconds in self.parts)
        lines = [f"CPU per event ({os.cpu_count()} cores):"]
        for name, seconds in self.parts:
            lines.append(f"  {name + ':':26} {seconds / max(events, 1) * 1e6:6.0f} µs")
        per_event = ours / max(events, 1)
        cores = os.cpu_count() or 1
        lines.append(
            f"  all of it: {per_event * 1e6:.0f} µs/event, i.e. at most"
            f" {cores / per_event:.0f} events/s on {cores} idle cores"
        )
        if self.machine and self.wall:
            others = max(0.0, self.machine - ours) / self.wall
            lines.append(
                f"  other processes on this machine kept {others:.1f} of {cores} cores busy"
                " meanwhile"
            )
        return "\n".join(lines)


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _machine_busy() -> float:
    """CPU seconds the whole machine spent busy since boot (Linux), else 0."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    ticks = [int(value) for value in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(who: int) -> float:
    peak = resource.getrusage(who).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--in-process", action="store_true", help="run node A in this process too")
    parser.add_argument(
        "--no-serving-budget",
        action="store_true",
        help="with --in-process: A answers as fast as asked (no serving budget)",
    )
    parser.add_argument("--log", help="write node B's log (INFO) to this file")
    parser.add_argument(
        "--diagnose", action="store_true", help="print the loop stacks seen during stalls"
    )
    args = parser.parse_args()
    if args.log:
        logging.basicConfig(filename=args.log, level=logging.INFO)

    with tempfile.TemporaryDirectory() as tmp:
        home_a, home_b = Home(Path(tmp) / "a"), Home(Path(tmp) / "b")
        started = time.perf_counter()
        sample = build_home(home_a, args.events)
        print(f"built A: {args.events} events in {time.perf_counter() - started:.1f} s", flush=True)
        baseline = raw_verify_rate(sample)
        print(
            f"raw Ed25519 verify, 1 core, before: {baseline:6.0f} events/s (best of 3)", flush=True
        )

        cpu = CpuMeter()
        if args.in_process:
            where = "A and B in this process"
            serving = UNLIMITED if args.no_serving_budget else BUDGET
            where += ", no serving budget" if args.no_serving_budget else ", serving budget on"
            result = asyncio.run(
                catch_up_in_process(
                    home_a, home_b, args.events, args.timeout, args.diagnose, serving
                )
            )
            cpu.mark("A+B (one process)", "B's verify workers")
        else:
            where = "A a `peernode serve` subprocess, B in this process"
            port = free_port()
            log = (Path(tmp) / "a.log").open("wb")
            argv = [sys.executable, "-m", "peernode", "--home", str(home_a.path), "serve"]
            argv += ["--port", str(port), "--no-mdns"]
            server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_listening(port, server, 120)
                result = asyncio.run(
                    catch_up(home_b, port, args.events, args.timeout, args.diagnose)
                )
                cpu.mark("B (loop, store, ...)", "B's verify workers")
            finally:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(30)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
                log.close()
            cpu.mark(None, "A (incl. its start-up)")

    again = raw_verify_rate(sample)
    print(f"raw Ed25519 verify, 1 core, after:  {again:6.0f} events/s (best of 3)")
    baseline = max(baseline, again)  # the faster one: the stricter ratio
    rate = result["received"] / result["elapsed"]
    print(f"catch-up ({where}):")
    print(
        f"  {int(result['received'])} events in {result['elapsed']:.1f} s "
        f"(stored {int(result['stored'])}"
        f"{', subscription overflowed' if result['overflowed'] else ''})"
    )
    print(
        f"  rate:                      {rate:8.0f} events/s  ratio {rate / baseline:.2f}"
        " (to the faster raw verify)"
    )
    print(f"  time to first event:       {result['first'] * 1000:8.0f} ms")
    print(
        "  B loop stall (5 ms probe) until the last event:"
        f" max {result['stall_max'] * 1000:.1f} ms, p99 {result['stall_p99'] * 1000:.1f} ms"
    )
    print(
        f"  longest loop step in CPU time: {result['step_max'] * 1000:.1f} ms until the last"
        f" event, {result['sync_step_max'] * 1000:.1f} ms until in sync"
        f" ({int(result['steps_over'])} steps over 10 ms)"
    )
    print(
        f"  garbage collections on B's loop thread: {result['gc']}"
        f" ({result['tracked']} objects tracked at the end)"
    )
    if result["synced"]:
        print(
            f"  in sync after {result['synced']:.1f} s; loop stall up to then:"
            f" max {result['sync_stall_max'] * 1000:.1f} ms,"
            f" p99 {result['sync_stall_p99'] * 1000:.1f} ms"
        )
    else:
        print("  the link did not report in sync within 30 s of the last event")
    print(cpu.report(int(result["received"]), result["elapsed"]))
    print(
        f"peak RSS: this process {peak_rss_mib(resource.RUSAGE_SELF):.0f} MiB,"
        f" largest child {peak_rss_mib(resource.RUSAGE_CHILDREN):.0f} MiB"
    )


if __name__ == "__main__":
    main()
