"""Discovery benchmark: from `peernode serve` being spawned to its first link, over real mDNS.

Run (as root: it builds network namespaces): .venv/bin/python bench/discovery.py [--runs N]

Two hosts on a bridged LAN of network namespaces (tests/support/netns.py). Host "a" runs a
node for the whole benchmark; each run spawns `peernode serve --port 7420` on host "b" with
a fresh home (a new identity that knows nobody: no --peer, no remembered peers), so the only
way to a's node is mDNS. A probe started beforehand inside "b" polls the new node's control
API every 20 ms and stamps the moment its status first shows a linked to a.

Printed per run and as median/min/max seconds after the spawn:
  listening  the node's control API answers (process start-up, mDNS registration, listener)
  linked     the node shows a link to a (discovery, dial, Noise handshake)
Figures only, no pass/fail. Without namespaces (not root, no `ip`, a container that forbids
them) it says why and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PORT = 7420

PROBE = r"""
import asyncio, json, sys, time
from pathlib import Path
from peernode.net import control
from peernode.home import Home

home, want, limit = Home(Path(sys.argv[1])), sys.argv[2], float(sys.argv[3])
print("ready", flush=True)  # imports done: the node may be spawned
deadline = time.monotonic() + limit
listening = None

async def status():
    try:
        return await control.call(home, "status")
    except Exception:
        return None

while time.monotonic() < deadline:
    if home.runtime_path.exists():
        result = asyncio.run(status())
        if result is not None and result.get("port"):
            listening = listening or time.monotonic()
            if any(p["key"] == want and p["linked"] for p in result["peers"]):
                print(json.dumps({"listening": listening, "linked": time.monotonic()}), flush=True)
                sys.exit(0)
    time.sleep(0.02)
print(json.dumps({"listening": listening, "linked": None}), flush=True)
"""


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k != "PEERNODE_HOME"}
    out["PYTHONPATH"] = str(REPO)
    out["PYTHONUNBUFFERED"] = "1"
    return out


def cli(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "peernode", "--home", str(home), *args]


def init(home: Path, name: str) -> str:
    subprocess.run(cli(home, "init", "--name", name), check=True, capture_output=True, env=env())
    out = subprocess.run(cli(home, "id", "--json"), check=True, capture_output=True, env=env())
    return str(json.loads(out.stdout)["key"])


def stop(proc: subprocess.Popen[Any], grace: float = 3.0) -> None:
    """SIGTERM, then SIGKILL after `grace` s (a linked node can hang in its shutdown)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def one_run(lan: Any, root: Path, run: int, a_key: str, limit: float) -> dict[str, float | None]:
    home = root / f"b{run}"
    init(home, f"Ben{run}")
    probe = lan.popen(
        "b",
        [sys.executable, "-c", PROBE, str(home), a_key, str(limit)],
        stdout=subprocess.PIPE,
        text=True,
        env=env(),
        cwd=REPO,
    )
    assert probe.stdout is not None
    ready, _, _ = select.select([probe.stdout], [], [], 30)
    if not ready or probe.stdout.readline().strip() != "ready":
        stop(probe)
        raise RuntimeError("the probe did not start")
    with (home / "serve.log").open("wb") as log:
        spawned = time.monotonic()
        node = lan.popen(
            "b", cli(home, "serve", "--port", str(PORT)), stdout=log, stderr=log, env=env()
        )
        try:
            ready, _, _ = select.select([probe.stdout], [], [], limit + 10)
            line = probe.stdout.readline() if ready else ""
        finally:
            stop(node)
            stop(probe)
    times = json.loads(line) if line else {"listening": None, "linked": None}
    return {k: None if v is None else v - spawned for k, v in times.items()}


def summary(label: str, values: list[float | None]) -> str:
    got = [v for v in values if v is not None]
    missing = len(values) - len(got)
    if not got:
        return f"{label:<10} no figure in {len(values)} runs"
    text = (
        f"{label:<10} median {statistics.median(got):6.2f} s   min {min(got):6.2f} s"
        f"   max {max(got):6.2f} s   ({len(got)} runs)"
    )
    return text + (f", {missing} timed out" if missing else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--limit", type=float, default=30.0, help="give up a run after this")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from tests.support.netns import Lan, netns_unavailable_reason

    reason = netns_unavailable_reason()
    if reason is not None:
        print(f"discovery benchmark skipped: {reason}")
        return

    with tempfile.TemporaryDirectory(prefix="pn-bench-") as tmp, Lan(["a", "b"]) as lan:
        root = Path(tmp)
        a_key = init(root / "a", "Ada")
        with (root / "a.log").open("wb") as log:
            serve_a = cli(root / "a", "serve", "--port", str(PORT))
            a = lan.popen("a", serve_a, stdout=log, stderr=log, env=env())
        try:
            deadline = time.monotonic() + 30  # a is up (and registered by mDNS) first
            while not (root / "a" / "node.json").exists():
                if a.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"a's node did not start: {(root / 'a.log').read_text()}")
                time.sleep(0.05)
            results = []
            for run in range(args.runs):
                result = one_run(lan, root, run, a_key, args.limit)
                results.append(result)
                shown = {k: "timeout" if v is None else f"{v:.2f} s" for k, v in result.items()}
                print(f"run {run + 1}: listening {shown['listening']}, linked {shown['linked']}")
        finally:
            stop(a)
    print(f"spawn of `peernode serve` on host b -> (n={args.runs}, mDNS only, fresh identity)")
    print(summary("listening", [r["listening"] for r in results]))
    print(summary("linked", [r["linked"] for r in results]))


if __name__ == "__main__":
    main()
