"""Runs attacks against a victim in namespaces and prints the table of docs/security.md.

    sudo env PYTHONPATH=. .venv/bin/python -m bench.hostile --attack all --duration 20

Per attack: fresh copies of the seed homes; the victim and the honest peer start, linked
by --peer; both post a note every 200 ms through their local API (bench.hostile.probe).
After 3 s in sync the attacker runs for --duration seconds (for `baseline` and `eclipse`
the honest peer restarts a third of the way in), then 6 s more without it ("after").
The bar: every honest note reaches the victim within 1 s during and after the attack,
the victim's RSS stays under 400 MB, no stored event is lost, at most the strangers'
daily budget (5,000 events) is stored, and after the attack every honest note has
arrived and the honest peer is linked.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import select
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from bench.hostile.attacks import ATTACKS, RESTARTS_HONEST, SHAPED
from bench.hostile.room import PORT, Node, Probe, Rss, attacker_sources, env, python, shape, stop
from bench.hostile.world import CIRCLE, World, build, copy_home, items
from peernode.home import Home
from tests.support.netns import Lan, netns_unavailable_reason
from tests.support.waiting import wait_for

WARM_UP = 3.0
AFTER = 6.0
PREPARE_WITHIN = 180.0  # for the attacker to sign what it will send
GRACE = 5.0  # after the last post, for notes still on their way
BAR_LATENCY = 1.0
BAR_RSS_MIB = 400 * 1_000_000 / 2**20
STRANGERS_BUDGET = 5_000  # AdmissionConfig's daily total


@dataclass(slots=True)
class Result:
    attack: str
    during: list[float | None] = field(default_factory=list)  # honest notes at the victim
    after: list[float | None] = field(default_factory=list)
    back: list[float | None] = field(default_factory=list)  # victim's notes at the honest peer
    rss: float = 0.0
    cpu: float = 0.0  # the victim's CPU during the attack, in cores
    load: float = 0.0  # the machine's load average (1 min) as the attack ended
    lost: int = 0
    strangers: int = 0
    synced: bool = False
    why: list[str] = field(default_factory=list)
    attacker: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failures(self) -> list[str]:
        found = list(self.why)
        worst = _worst(self.during)
        if worst is None or worst > BAR_LATENCY:
            found.append("honest notes late during the attack")
        if self.rss >= BAR_RSS_MIB:
            found.append("RSS over 400 MB")
        if self.lost:
            found.append("stored events lost")
        if self.strangers > STRANGERS_BUDGET:
            found.append("strangers stored beyond the daily budget")
        if not self.synced:
            found.append("no normal sync afterwards")
        return found


def _worst(latencies: list[float | None]) -> float | None:
    """The largest latency; None when a note never arrived (or there were none)."""
    if not latencies or any(x is None for x in latencies):
        return None
    return max(x for x in latencies if x is not None)


def latencies(
    posted: list[tuple[float, str]], arrived: dict[str, float], start: float, end: float
) -> list[float | None]:
    """Seconds from post to arrival of the notes posted in [start, end); None: never."""
    out: list[float | None] = []
    for t, event_id in posted:
        if start <= t < end:
            seen = arrived.get(event_id)
            out.append(None if seen is None else max(0.0, seen - t))
    return out


def run_attack(world: World, name: str, duration: float, work: Path) -> Result:
    result = Result(name)
    started = time.monotonic()
    run_dir = work / name
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    homes = {host: copy_home(world, host, run_dir / host) for host in ("victim", "honest")}
    with Lan(["victim", "honest", "attacker"]) as lan:
        sources = attacker_sources(lan)
        if name in SHAPED:
            shape(lan, "victim")
        victim = Node(lan, "victim", homes["victim"], lan.address("honest"))
        honest = Node(lan, "honest", homes["honest"], lan.address("victim"))
        try:
            _attack_phases(lan, world, name, duration, result, victim, honest, sources)
        finally:
            victim.close()
            honest.close()
    _count_store(world, homes["victim"], result)
    result.seconds = time.monotonic() - started
    return result


def _attack_phases(
    lan: Lan,
    world: World,
    name: str,
    duration: float,
    result: Result,
    victim: Node,
    honest: Node,
    sources: list[str],
) -> None:
    at_victim = Probe(lan, "victim", world.token("victim"), watch=world.key("honest"))
    at_honest = Probe(lan, "honest", world.token("honest"), watch=world.key("victim"))
    honest_key, victim_key = world.key("honest"), world.key("victim")

    def linked() -> bool:
        return honest_key in at_victim.latest_status().get(
            "in_sync", []
        ) and victim_key in at_honest.latest_status().get("linked", [])

    wait_for(linked, "the victim and the honest peer to link and be in sync", 90, every=0.2)
    rss = Rss(victim.process.pid)
    # Notes posted before both streams were following may have been missed by them.
    measured_from = time.monotonic()
    time.sleep(WARM_UP)
    argv = ["-m", "bench.hostile.attacker", "--target", f"{lan.address('victim')}:{PORT}"]
    argv += ["--sources", ",".join(sources), "--world", str(world.root), "--attack", name]
    argv += ["--duration", str(duration)]
    attacker = python("attacker", lan, argv, stdout=subprocess.PIPE, text=True)
    try:
        assert attacker.stdout is not None
        ready, _, _ = select.select([attacker.stdout], [], [], PREPARE_WITHIN)
        if not ready or attacker.stdout.readline().strip() != "ready":
            raise RuntimeError("the attacker did not start")
        attack_start, cpu_start = time.monotonic(), rss.cpu()
        if name in RESTARTS_HONEST:
            time.sleep(duration / 3)
            honest.restart()
        try:
            out, _ = attacker.communicate(timeout=duration + 15)
        except subprocess.TimeoutExpired:
            stop(attacker)
            out = attacker.stdout.read() if attacker.stdout else ""
            result.why.append("the attacker overran")
    finally:
        stop(attacker)
    attack_end = time.monotonic()
    result.cpu = (rss.cpu() - cpu_start) / max(0.001, attack_end - attack_start)
    result.load = os.getloadavg()[0]
    lines = [line for line in (out or "").splitlines() if line.startswith("{")]
    result.attacker = json.loads(lines[-1]) if lines else {"error": "no report"}
    time.sleep(AFTER)
    after_end = time.monotonic()
    for probe in (at_victim, at_honest):
        probe.stop_posting()
    posted = [(t, event_id) for t, event_id in at_honest.posted() if t >= measured_from]

    def all_arrived() -> bool:
        arrived = at_victim.arrived()
        return all(event_id in arrived for _, event_id in posted)

    try:
        wait_for(all_arrived, "every honest note at the victim", GRACE, every=0.2)
    except AssertionError:
        result.why.append("honest notes missing at the end")
    result.rss = rss.stop()
    arrived = at_victim.arrived()
    result.during = latencies(posted, arrived, attack_start, attack_end)
    result.after = latencies(posted, arrived, attack_end, after_end)
    result.back = latencies(at_victim.posted(), at_honest.arrived(), attack_start, attack_end)
    worst_after = _worst(result.after)
    # Linked, not "in sync": a peer holding strangers' events this node declined keeps
    # showing differences (docs/security.md, Admission).
    in_sync = honest_key in at_victim.latest_status().get("linked", [])
    if not victim.running():
        result.why.append("the victim exited")
    if not in_sync:
        result.why.append("the honest peer not linked at the end")
    if name == "odd-events" and not _circle_updates(lan, victim.home):
        result.why.append("the circle cannot be updated by its member")
    result.synced = (
        worst_after is not None and worst_after <= BAR_LATENCY and in_sync and victim.running()
    )
    for host, probe in (("victim", at_victim), ("honest", at_honest)):
        stop(probe.process)
        probe.save(victim.home.parent / f"probe-{host}.jsonl")


def _circle_updates(lan: Lan, home: Path) -> bool:
    """The victim's own member can still publish a new version of its circle."""
    argv = [sys.executable, "-m", "peernode", "--home", str(home), "circle", "update", CIRCLE]
    argv += ["--description", "still ours"]
    done = lan.run("victim", argv, check=False, timeout=60, env=env())
    return done.returncode == 0


def _count_store(world: World, home: Path, result: Result) -> None:
    """Stored events lost (of the seed) and strangers' events stored, from the victim's DB."""
    seeded = {event_id for _, event_id in items(world)}
    own = {bytes.fromhex(world.key(name)) for name in ("victim", "honest")}
    with sqlite3.connect(f"file:{Home(home).db_path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT id, author FROM events").fetchall()
    ids = {bytes(event_id) for event_id, _ in rows}
    result.lost = len(seeded - ids)
    result.strangers = sum(
        1 for event_id, author in rows if bytes(event_id) not in seeded and bytes(author) not in own
    )


# -- the table ----------------------------------------------------------------------------


def _ms(latencies: list[float | None]) -> str:
    arrived = [x for x in latencies if x is not None]
    if not latencies:
        return "no notes"
    missing = len(latencies) - len(arrived)
    text = (
        "none arrived"
        if not arrived
        else (f"{statistics.median(arrived) * 1000:.0f} / {max(arrived) * 1000:.0f} ms")
    )
    return text + (f", {missing} of {len(latencies)} missing" if missing else "")


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""


def _attacker(report: dict[str, Any]) -> str:
    if "error" in report:
        return str(report["error"])
    sent, received = report.get("sent", 0), report.get("received", 0)
    parts = [f"{report.get('links', 0)} links ({report.get('refused', 0)} refused)"]
    parts.append(f"sent {_size(sent)}, got {_size(received)}")
    if sent:
        parts[-1] += f" (×{received / sent:.1f})"
    parts += [
        f"{k} {v:,}" for k, v in report.items() if k not in ("links", "refused", "sent", "received")
    ]
    return "; ".join(parts)


def table(results: list[Result]) -> str:
    head = (
        "| attack | honest notes at the victim, p50 / max | after | victim's notes at the"
        " honest peer | victim CPU (load) | RSS max | lost | strangers stored | after-sync ok"
        " | verdict | attacker |"
    )
    lines = [head, "|" + "---|" * 11]
    for r in results:
        failures = r.failures
        verdict = "pass" if not failures else "fail: " + "; ".join(failures)
        lines.append(
            f"| {r.attack} | {_ms(r.during)} | {_ms(r.after)} | {_ms(r.back)}"
            f" | {r.cpu * 100:.0f} % ({r.load:.1f}) | {r.rss:.0f} MiB"
            f" | {r.lost} | {r.strangers:,} | {'yes' if r.synced else 'no'} | {verdict}"
            f" | {_attacker(r.attacker)} |"
        )
    return "\n".join(lines)


def machine() -> str:
    load = os.getloadavg()
    return (
        f"{platform.node()}: {os.cpu_count()} cores, Linux {platform.release()}, Python"
        f" {platform.python_version()}, load {load[0]:.1f} at the start"
    )


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # so every Lan and process is cleaned up on the way out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attack", default="all", help=f"all or one of {', '.join(ATTACKS)}")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of attack")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "peernode-hostile",
        help="seed homes (kept and reused) and one directory per run",
    )
    args = parser.parse_args(argv)
    names = list(ATTACKS) if args.attack == "all" else args.attack.split(",")
    unknown = [n for n in names if n not in ATTACKS]
    if unknown:
        parser.error(f"unknown attack {', '.join(unknown)}; known: {', '.join(ATTACKS)}")
    reason = netns_unavailable_reason()
    if reason is not None:
        sys.exit(f"cannot run: {reason}")
    signal.signal(signal.SIGTERM, _interrupted)
    print(machine(), flush=True)
    world = build(args.work / "seed")
    results: list[Result] = []
    try:
        for name in names:
            print(f"{name}: {ATTACKS[name][1]} ({args.duration:.0f} s) ...", flush=True)
            try:
                result = run_attack(world, name, args.duration, args.work)
            except (TimeoutError, AssertionError, RuntimeError, OSError) as exc:
                result = Result(name, why=[f"the run failed: {exc}"])
            results.append(result)
            print(table([result]).splitlines()[-1], flush=True)
    except KeyboardInterrupt:
        print("interrupted: processes and namespaces removed", flush=True)
        if results:
            print("\n" + table(results))
        sys.exit(130)
    print()
    print(table(results))
