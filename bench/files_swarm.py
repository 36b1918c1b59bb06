"""Files swarm benchmark: N receivers fetch one file from one seed, on a LAN of namespaces.

Run (as root: it builds network namespaces):
    .venv/bin/python bench/files_swarm.py [--nodes 8] [--size-mib 200] [--runs 1] [--rate-mbit 100]

Every node is a real `peernode serve` process in its own host (tests/support/netns.py: one
network namespace each, on one bridge), found by the others over real mDNS (no --peer).
The seed shares the file (`peernode file share`); a receiver fetches it through the
node's local API (`POST /v1/files/{id}/fetch`, then `GET /v1/files/{id}` until done),
asked by a small stdlib script inside its host (the API listens on the host's loopback).

Each run measures, on fresh receiver homes:
  single  one receiver fetching from the seed alone (no other receiver is running);
  swarm   N receivers started together, linked by mDNS, told to fetch at the same moment.
Printed: each receiver's completion time, the time until all N have it, the mean MB/s,
the ratio of that time to N x the single time (what fetching together saves over one
after the other), and the bytes each host sent on its Ethernet (`ip -s link`: chunks plus
TCP, Noise and gossip overhead), so whether the seed sent less than N copies.

--rate-mbit shapes every host's link in both directions (tc tbf): a laptop's network, not
the machine's CPU, is then the limit, as in a room. With --rate-mbit 0 the only limit is
the CPU, and on a machine of 2 cores N+1 nodes compete for it: the figure is then about
how the protocol shares the work, not about a room's speed. Figures only, no pass/fail.
Namespaces and processes are removed on exit, also on Ctrl-C, SIGTERM or a failure.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.netns import Lan, netns_unavailable_reason, stop_process  # noqa: E402
from tests.support.nodes import cli_argv, cli_env  # noqa: E402
from tests.support.waiting import wait_for  # noqa: E402

PORT = 7420
API_PORT = 7421
CIRCLE = "bench"
MIB = 1024 * 1024
MAX_LINKS = 8  # protocol.gossip.GossipConfig.max_links: a node's links, and so its sources
POLL = 0.1  # seconds between two looks at a fetch (the resolution of the times)
T = TypeVar("T")

AGENT = r"""
import json, sys, time, urllib.error, urllib.request

base, token, poll = sys.argv[1], sys.argv[2], float(sys.argv[3])

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", "Bearer " + token)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, None
    except OSError:
        return 0, None

def fetch(file):
    started = time.monotonic()
    status, state = call("POST", "/v1/files/" + file + "/fetch", {})
    sources = 0
    while status in (200, 202) and not state["done"] and not state["error"]:
        sources = max(sources, state["sources"])
        time.sleep(poll)
        status, state = call("GET", "/v1/files/" + file)
    error = state["error"] if state else "HTTP %d" % status
    return {"started": started, "done": time.monotonic(), "error": error, "sources": sources}

print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    command, _, arg = line.strip().partition(" ")
    if command == "key":
        status, answer = call("GET", "/v1/status")
        print(json.dumps(answer["key"] if status == 200 else None), flush=True)
    elif command == "links":
        status, answer = call("GET", "/v1/peers")
        peers = answer["peers"] if status == 200 else []
        print(json.dumps([peer["key"] for peer in peers if peer["linked"]]), flush=True)
    elif command == "has":
        status, _ = call("GET", "/v1/files/" + arg)
        print(json.dumps(status == 200), flush=True)
    elif command == "fetch":
        print(json.dumps(fetch(arg)), flush=True)
"""


def run_cli(home: Path, *args: str) -> str:
    done = subprocess.run(
        cli_argv(home, *args), capture_output=True, text=True, env=cli_env(), check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"peernode {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


class Host:
    """One laptop: `peernode serve` in its namespace, and an agent there that talks to its API."""

    def __init__(self, lan: Lan, host: str, home: Path, name: str) -> None:
        self.lan, self.host, self.home, self.name = lan, host, home, name
        if not (home / "identity.key").exists():
            run_cli(home, "init", "--name", name)
        token = run_cli(home, "api", "token", "add", "bench", "--scope", "files", "--json")
        added = json.loads(token)
        argv = cli_argv(home, "serve", "--port", str(PORT), "--api-port", str(API_PORT))
        with (home / "serve.log").open("ab") as log:
            self.node = lan.popen(host, argv, stdout=log, stderr=log, env=cli_env())
        base = f"http://127.0.0.1:{API_PORT}"
        agent = [sys.executable, "-c", AGENT, base, added["token"], str(POLL)]
        self.agent = lan.popen(
            host, agent, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=cli_env()
        )
        self._read(30)  # the agent's "ready"

    def ask(self, command: str, within: float = 30) -> Any:
        """One command to the agent, its one-line JSON answer."""
        assert self.agent.stdin is not None
        self.agent.stdin.write(command + "\n")
        self.agent.stdin.flush()
        return self._read(within)

    def _read(self, within: float) -> Any:
        assert self.agent.stdout is not None
        ready, _, _ = select.select([self.agent.stdout], [], [], within)
        line = self.agent.stdout.readline() if ready else ""
        if not line:
            raise RuntimeError(f"{self.host}'s agent did not answer: {self.log_tail()}")
        return json.loads(line)

    def links(self) -> set[str]:
        """The keys of the peers this node is linked to now."""
        if self.node.poll() is not None:
            raise RuntimeError(f"{self.host}'s node exited: {self.log_tail()}")
        return set(self.ask("links"))

    def key(self) -> str:
        return str(wait_for(lambda: self.ask("key"), f"{self.host}'s node to answer", 30))

    def log_tail(self) -> str:
        path = self.home / "serve.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        stop_process(self.agent)
        stop_process(self.node)


def stop_hosts(hosts: list[Host]) -> None:
    """Every node at once (SIGTERM), then reap them."""
    for host in hosts:
        if host.node.poll() is None:
            host.node.send_signal(signal.SIGTERM)
    for host in hosts:
        host.stop()


@dataclass
class Fetched:
    """One receiver's fetch: seconds from the go to complete, and the most sources seen."""

    host: str
    seconds: float
    sources: int
    error: str


def parallel(work: Callable[[Host], T], hosts: list[Host]) -> list[T]:
    """`work` on every host at once (a thread each); an interrupt does not wait for them
    (the Lan's tear-down ends their agents, which ends the threads)."""
    pool = ThreadPoolExecutor(len(hosts))
    try:
        return list(pool.map(work, hosts))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def fetch_all(receivers: list[Host], file_id: str, within: float) -> list[Fetched]:
    """Tell every receiver to fetch at the same moment; wait for all to finish."""
    go = time.monotonic()
    answers = parallel(lambda h: h.ask(f"fetch {file_id}", within), receivers)
    return [
        Fetched(host.host, a["done"] - go, a["sources"], a["error"])
        for host, a in zip(receivers, answers, strict=True)
    ]


@dataclass
class Links:
    """How the receivers were linked when they were told to fetch."""

    fewest: int
    mean: float
    to_seed: int  # receivers linked to the seed


def ready(receivers: list[Host], seed: str, file_id: str, links: int, within: float) -> Links:
    """Until every receiver holds the file's event and is linked to `links` peers, or
    `within` s passed (then it goes with the links there are)."""
    wait_for(
        lambda: all(parallel(lambda h: h.ask(f"has {file_id}"), receivers)),
        "every receiver to hold the file's event",
        within,
    )
    deadline = time.monotonic() + within
    while True:
        linked = parallel(Host.links, receivers)
        if min(map(len, linked)) >= links or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    counts = [len(keys) for keys in linked]
    return Links(min(counts), statistics.mean(counts), sum(seed in keys for keys in linked))


@dataclass
class Run:
    single: Fetched
    swarm: list[Fetched]
    sent: dict[str, int]  # host -> bytes sent during the swarm
    links: Links


def one_run(lan: Lan, root: Path, seed: Host, file_id: str, args: argparse.Namespace) -> Run:
    limit, seed_key = args.limit, seed.key()
    transfer = limit + args.size_mib * 8  # seconds: 1 Mbit/s would still do
    solo = Host(lan, "solo", root / "solo", "Solo")
    try:
        ready([solo], seed_key, file_id, 1, limit)
        (single,) = fetch_all([solo], file_id, transfer)
    finally:
        solo.stop()
        shutil.rmtree(root / "solo", ignore_errors=True)
    receivers: list[Host] = []
    try:
        for i in range(args.nodes):
            receivers.append(Host(lan, f"r{i}", root / f"r{i}", f"Learner {i}"))
        links = ready(receivers, seed_key, file_id, min(args.nodes, MAX_LINKS), args.link_wait)
        everyone = [seed, *receivers]
        before = {h.host: lan.sent_bytes(h.host) for h in everyone}
        swarm = fetch_all(receivers, file_id, transfer)
        sent = {h.host: lan.sent_bytes(h.host) - before[h.host] for h in everyone}
    finally:
        stop_hosts(receivers)
        for i in range(args.nodes):
            shutil.rmtree(root / f"r{i}", ignore_errors=True)
    return Run(single, swarm, sent, links)


def report(run: Run, number: int, size: int, nodes: int) -> float:
    """Print one run; returns the swarm's time over N x the single time."""
    single = run.single.seconds
    total = max(f.seconds for f in run.swarm)
    errors = [f"{f.host}: {f.error}" for f in [run.single, *run.swarm] if f.error]
    links = run.links
    print(
        f"run {number}: links per receiver: fewest {links.fewest}, mean {links.mean:.1f}"
        f" (a node keeps at most {MAX_LINKS});"
        f" {links.to_seed} of {nodes} receivers linked to the seed"
    )
    if errors:
        print("  errors: " + "; ".join(errors))
    rate = size / single / 1e6
    print(f"  single receiver from the seed alone: {single:6.1f} s  {rate:6.1f} MB/s")
    times = "  ".join(f"{f.host} {f.seconds:.1f}" for f in sorted(run.swarm, key=lambda f: f.host))
    print(f"  swarm, each complete after (s): {times}")
    print(f"  most sources seen by a receiver: {max(f.sources for f in run.swarm)}")
    mean_rate = statistics.mean(size / f.seconds for f in run.swarm) / 1e6
    ratio = total / (nodes * single)
    print(
        f"  all {nodes} complete after {total:6.1f} s; mean {mean_rate:.1f} MB/s per receiver;"
        f" {nodes} x single = {nodes * single:.1f} s; ratio {ratio:.2f}"
        f" ({'saves' if ratio < 1 else 'costs'} {abs(1 - ratio) * 100:.0f}%)"
    )
    print(f"  sent on the LAN during the swarm (MiB, and copies of the {size // MIB} MiB file):")
    for host, sent in run.sent.items():
        print(f"    {host:5} {sent / MIB:9.1f}  {sent / size:5.2f}")
    return ratio


def share_file(root: Path, home: Path, size_mib: int) -> str:
    """The seed's home with the file shared (random bytes); the file's event id."""
    data = root / "lecture.bin"
    with open(data, "wb") as writer:
        for _ in range(size_mib):
            writer.write(os.urandom(MIB))
    run_cli(home, "init", "--name", "Seed")
    shared = json.loads(run_cli(home, "file", "share", str(data), "--circle", CIRCLE, "--json"))
    data.unlink()
    return str(shared["id"])


def interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=8, help="receivers in the swarm")
    parser.add_argument("--size-mib", type=int, default=200, help="size of the file (MiB)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--rate-mbit", type=int, default=100, help="each link (0: unshaped)")
    parser.add_argument("--limit", type=float, default=120.0, help="seconds for one step")
    parser.add_argument(
        "--link-wait", type=float, default=30.0, help="seconds to wait for a full mesh"
    )
    args = parser.parse_args()
    reason = netns_unavailable_reason()
    if reason is not None:
        print(f"files swarm benchmark skipped: {reason}")
        return
    signal.signal(signal.SIGTERM, interrupted)
    os.environ["PYTHONPATH"] = str(REPO)  # every `peernode` started runs this tree
    hosts = ["seed", "solo", *(f"r{i}" for i in range(args.nodes))]
    size = args.size_mib * MIB
    with tempfile.TemporaryDirectory(prefix="pn-swarm-") as tmp, Lan(hosts) as lan:
        root = Path(tmp)
        if args.rate_mbit:
            for host in hosts:
                lan.limit_rate(host, args.rate_mbit)
        file_id = share_file(root, root / "seed", args.size_mib)
        seed = Host(lan, "seed", root / "seed", "Seed")
        ratios = []
        try:
            link = f"links of {args.rate_mbit} Mbit/s" if args.rate_mbit else "unshaped links"
            print(
                f"{args.nodes} receivers and a seed, each `peernode serve` in its own network"
                f" namespace, found by mDNS; {args.size_mib} MiB; {link};"
                f" {os.cpu_count()} cores for all {args.nodes + 1} nodes, so the figures are about"
                " how the protocol shares the work between laptops, not about a room's speed"
            )
            for number in range(1, args.runs + 1):
                run = one_run(lan, root, seed, file_id, args)
                ratios.append(report(run, number, size, args.nodes))
        finally:
            seed.stop()
    if len(ratios) > 1:
        print(f"ratio to {args.nodes} x single, median of {len(ratios)} runs:"
              f" {statistics.median(ratios):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
