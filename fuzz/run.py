"""Run the fuzz targets: the bombs first, then N inputs per target, one process per target.

    .venv/bin/python -m fuzz.run                       # every target, default input counts
    .venv/bin/python -m fuzz.run --targets wire,event --runs 50000
    nice -n 10 .venv/bin/python -m fuzz.run --scale 1.0 --jobs 2     # the >= 1M campaign
    .venv/bin/python -m fuzz.run --bombs-only          # memory peaks under bombs

Engines: `atheris` (coverage-guided libFuzzer; not a dependency of the project: install it
with `.venv/bin/pip install atheris` when wanted) or `mutator` (our own seeded mutation
fuzzer, always available). `--engine auto` (the default) picks atheris when it imports.

A finding (crash, hang, memory, invariant) is saved to WORKDIR/artifacts with its traceback,
the run goes on, and the exit status is 1. Replay one with `--replay FILE --targets NAME`.
Nothing from protocol/ is imported before the engine is chosen: atheris instruments the
modules as they are first imported.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

# Inputs per target at --scale 1.0: 1,050,000 in all, fewer for the targets that do public-key
# work or walk the reconciliation index per input (about 15 CPU-minutes in all).
DEFAULT_RUNS: Final = {
    "codec": 170_000,
    "event": 170_000,
    "event_signed": 100_000,
    "wire": 170_000,
    "handshake_msg1": 60_000,
    "handshake_msg2": 60_000,
    "handshake_msg3": 60_000,
    "handshake_payload": 50_000,
    "frame": 50_000,
    "reconcile": 60_000,
    "discovery": 100_000,
}
INSTALL_ATHERIS: Final = ".venv/bin/pip install atheris"
STATS_EVERY: Final = 2000


def _has_atheris() -> bool:
    return importlib.util.find_spec("atheris") is not None


# -- one target in this process --------------------------------------------------------------


class _Stats:
    def __init__(self, target: str, engine: str, seed: int, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {
            "target": target,
            "engine": engine,
            "seed": seed,
            "runs": 0,
            "accepted": 0,
            "rejected": {},
            "max_input_cpu_seconds": 0.0,
            "max_input_peak_bytes": 0,
            "max_input_len": 0,
            "findings": [],
            "corpus": 0,
            "started": time.time(),
            "wall_seconds": 0.0,
            "cpu_seconds": 0.0,
            "max_rss_kib": 0,
            "done": False,
        }
        self._cpu0 = time.process_time()

    def add(self, size: int, result: str, seconds: float, peak: int) -> None:
        d = self.data
        d["runs"] += 1
        if result == "accepted":
            d["accepted"] += 1
        else:
            d["rejected"][result] = d["rejected"].get(result, 0) + 1
        d["max_input_cpu_seconds"] = max(d["max_input_cpu_seconds"], seconds)
        d["max_input_peak_bytes"] = max(d["max_input_peak_bytes"], peak)
        d["max_input_len"] = max(d["max_input_len"], size)
        if d["runs"] % STATS_EVERY == 0:
            self.write()

    def finding(self, kind: str, message: str, artifact: str) -> None:
        self.data["runs"] += 1
        found = self.data["findings"]
        if len(found) < 100:
            found.append({"kind": kind, "message": message, "artifact": artifact})
        self.write()

    def write(self, done: bool = False) -> None:
        d = self.data
        d["wall_seconds"] = round(time.time() - d["started"], 1)
        d["cpu_seconds"] = round(time.process_time() - self._cpu0, 1)
        d["max_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        d["done"] = done
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(d, indent=1))
        tmp.replace(self.path)


def _worker(args: argparse.Namespace) -> int:
    name: str = args.worker
    workdir: Path = args.workdir
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if _has_atheris() else "mutator"
    if engine == "atheris":
        import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]

        with atheris.instrument_imports(include=["protocol", "peernode", "fuzz"]):
            from fuzz import corpus, harness, targets
    else:
        from fuzz import corpus, harness, targets
    from fuzz.mutator import Mutator

    target = targets.TARGETS[name]
    limits = harness.Limits(seconds=args.seconds, memory_bytes=int(args.memory_mib * harness.MIB))
    (workdir / "stats").mkdir(parents=True, exist_ok=True)
    artifacts = workdir / "artifacts"
    stats = _Stats(name, engine, args.seed, workdir / "stats" / f"{name}.json")
    seen_findings: set[tuple[str, str]] = set()

    def judge(data: bytes) -> harness.Outcome | None:
        """Run one input; record a finding (first of its kind saved) instead of raising."""
        try:
            return harness.run_one(target, data, limits, alarm=engine == "mutator")
        except harness.Finding as finding:
            if finding.kind == "hang" and _untraced_is_fast(harness, target, data, limits):
                stats.add(len(data), "slow only under tracemalloc", limits.seconds, 0)
                return None
            key = (finding.kind, finding.message.split(":")[0])
            path = finding.save(artifacts) if key not in seen_findings else Path("(same)")
            seen_findings.add(key)
            stats.finding(finding.kind, finding.message, str(path))
            print(f"FINDING {finding}", file=sys.stderr, flush=True)
            return None

    with harness.traced_memory():
        if engine == "atheris":
            corpus_dir = workdir / "corpus" / name
            corpus_dir.mkdir(parents=True, exist_ok=True)
            for i, seed_input in enumerate(corpus.seeds(name)):
                (corpus_dir / f"seed-{i:03d}").write_bytes(seed_input)
            runs = args.runs

            def one(data: bytes) -> None:
                outcome = judge(data)
                if outcome is not None:
                    stats.add(len(data), outcome.result, outcome.seconds, outcome.peak_bytes)
                if stats.data["runs"] >= runs:
                    stats.data["corpus"] = len(os.listdir(corpus_dir))
                    stats.write(done=True)
                    os._exit(1 if stats.data["findings"] else 0)

            libfuzzer_args = [
                sys.argv[0],
                str(corpus_dir),
                f"-runs={runs + 10_000}",
                f"-seed={args.seed}",
                f"-max_len={target.max_len}",
                f"-timeout={int(limits.hard_seconds)}",
                "-rss_limit_mb=4096",
                f"-artifact_prefix={artifacts}/{name}-libfuzzer-",
                "-print_final_stats=1",
            ]
            artifacts.mkdir(parents=True, exist_ok=True)
            atheris.Setup(libfuzzer_args, one)
            atheris.Fuzz()  # never returns: one() exits at the count
            return 2
        seeds = corpus.seeds(name)
        mutator = Mutator(seeds, seed=args.seed * 1_000_003 + _stable(name), max_len=target.max_len)
        with harness.alarm_handler():
            for i in range(args.runs):
                data = seeds[i] if i < len(seeds) else mutator.generate()
                outcome = judge(data)
                if outcome is not None:
                    stats.add(len(data), outcome.result, outcome.seconds, outcome.peak_bytes)
                    mutator.feedback(data, outcome.result, outcome.detail)
        stats.data["corpus"] = len(mutator.corpus)
    stats.write(done=True)
    return 1 if stats.data["findings"] else 0


def _untraced_is_fast(harness: Any, target: Any, data: bytes, limits: Any) -> bool:
    """tracemalloc slows allocation-heavy inputs several times: judge a hang untraced."""
    import tracemalloc

    tracemalloc.stop()
    try:
        harness.run_one(target, data, limits)
        return True
    except harness.Finding:
        return False
    finally:
        tracemalloc.start(1)


def _stable(name: str) -> int:
    return sum((i + 1) * b for i, b in enumerate(name.encode()))


# -- the whole campaign ---------------------------------------------------------------------


def _bombs(names: list[str], args: argparse.Namespace) -> bool:
    from fuzz.bombs import measure
    from fuzz.harness import MIB, Limits

    limits = Limits(seconds=args.seconds, memory_bytes=int(args.memory_mib * MIB))
    results = measure(names, limits)
    print(f"\n== bombs: peak tracemalloc allocation per input (bound {args.memory_mib} MiB)")
    print(f"{'target':18} {'bomb':46} {'bytes':>8} {'peak KiB':>9} {'cpu ms':>7}  result")
    worst: dict[str, int] = {}
    for r in results:
        flag = "" if r.within else "  <-- OVER"
        print(
            f"{r.target:18} {r.bomb[:46]:46} {r.size:8d} {r.peak_bytes / 1024:9.1f} "
            f"{r.seconds * 1000:7.1f}  {r.result[:40]}{flag}"
        )
        worst[r.target] = max(worst.get(r.target, 0), r.peak_bytes)
    print(
        "\nworst peak per target: " + ", ".join(f"{k} {v / MIB:.2f} MiB" for k, v in worst.items())
    )
    path = args.workdir / "bombs.json"
    path.write_text(json.dumps([dataclasses.asdict(r) for r in results], indent=1))
    return all(r.within for r in results)


def _campaign(names: list[str], args: argparse.Namespace) -> bool:
    plan = {name: max(1, int(DEFAULT_RUNS[name] * args.scale)) for name in names}
    if args.runs is not None:
        plan = dict.fromkeys(names, args.runs)
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if _has_atheris() else "mutator"
    if engine == "mutator" and args.engine == "auto":
        print(f"atheris is not installed ({INSTALL_ATHERIS} for coverage guidance): using mutator")
    (args.workdir / "logs").mkdir(parents=True, exist_ok=True)
    (args.workdir / "stats").mkdir(parents=True, exist_ok=True)
    print(f"\n== campaign: engine {engine}, {sum(plan.values()):,} inputs, {args.jobs} jobs")
    queue = sorted(plan, key=lambda n: -plan[n])
    running: dict[str, subprocess.Popen[bytes]] = {}
    codes: dict[str, int] = {}
    start = time.time()
    while queue or running:
        while queue and len(running) < args.jobs:
            name = queue.pop(0)
            log = (args.workdir / "logs" / f"{name}.log").open("wb")
            command = [
                sys.executable,
                "-m",
                "fuzz.run",
                "--worker",
                name,
                "--engine",
                engine,
                "--runs",
                str(plan[name]),
                "--seed",
                str(args.seed),
                "--seconds",
                str(args.seconds),
                "--memory-mib",
                str(args.memory_mib),
                "--workdir",
                str(args.workdir),
            ]
            running[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        time.sleep(1)
        for name, proc in list(running.items()):
            if proc.poll() is not None:
                codes[name] = proc.returncode
                del running[name]
                _print_row(args.workdir, name, proc.returncode)
    print(f"campaign wall time {time.time() - start:.0f} s")
    return _summary(args.workdir, names, codes)


def _load(workdir: Path, name: str) -> dict[str, Any]:
    path = workdir / "stats" / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {"runs": 0, "findings": []}


def _print_row(workdir: Path, name: str, code: int) -> None:
    s = _load(workdir, name)
    rate = s["runs"] / s["cpu_seconds"] if s.get("cpu_seconds") else 0.0
    print(
        f"  {name:18} {s['runs']:>9,} inputs  {s.get('wall_seconds', 0):7.0f} s  "
        f"{rate:7.0f}/cpu-s  max {s.get('max_input_cpu_seconds', 0) * 1000:6.1f} ms  "
        f"peak {s.get('max_input_peak_bytes', 0) / 1048576:5.2f} MiB  "
        f"findings {len(s['findings'])}  exit {code}",
        flush=True,
    )


def _summary(workdir: Path, names: list[str], codes: dict[str, int]) -> bool:
    rows = {name: _load(workdir, name) for name in names}
    total = sum(r["runs"] for r in rows.values())
    findings = sum(len(r["findings"]) for r in rows.values())
    failed = [n for n in names if codes.get(n, 1) not in (0, 1) or not rows[n].get("done")]
    print(f"\n== total: {total:,} inputs over {len(names)} targets, {findings} findings")
    for name, row in rows.items():
        for f in row["findings"]:
            print(f"  {name}: {f['kind']}: {f['message'][:150]} -> {f['artifact']}")
    if failed:
        print(f"  workers that did not finish cleanly: {', '.join(failed)} (see logs/)")
    summary = {"total_inputs": total, "findings": findings, "targets": rows}
    (workdir / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"details: {workdir}/summary.json, logs/, artifacts/")
    return findings == 0 and not failed


def _replay(names: list[str], args: argparse.Namespace) -> int:
    from fuzz import harness, targets

    target = targets.TARGETS[names[0]]
    data = args.replay.read_bytes()
    limits = harness.Limits(seconds=args.seconds, memory_bytes=int(args.memory_mib * harness.MIB))
    with harness.traced_memory():
        try:
            outcome = harness.run_one(target, data, limits)
        except harness.Finding as finding:
            print(finding)
            print(finding.trace)
            return 1
    print(f"{target.name}: {outcome}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--targets", default="", help="comma-separated (default: all)")
    parser.add_argument("--engine", choices=("auto", "atheris", "mutator"), default="auto")
    parser.add_argument("--runs", type=int, help="inputs per target (overrides --scale)")
    parser.add_argument("--scale", type=float, default=0.05, help="times DEFAULT_RUNS")
    parser.add_argument("--jobs", type=int, default=2, help="targets fuzzed at once")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=1.0, help="per-input CPU time limit")
    parser.add_argument("--memory-mib", type=float, default=8.0, help="per-input memory bound")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/peernode-fuzz"))
    parser.add_argument("--no-bombs", action="store_true")
    parser.add_argument("--bombs-only", action="store_true")
    parser.add_argument("--replay", type=Path, help="run one saved input and show the result")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.worker:
        return _worker(args)
    all_names = list(DEFAULT_RUNS)
    names = [n for n in args.targets.split(",") if n] or all_names
    unknown = set(names) - set(all_names)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; known: {', '.join(all_names)}")
    if args.replay:
        return _replay(names, args)
    ok = True
    if not args.no_bombs:
        ok = _bombs(names, args) and ok
    if not args.bombs_only:
        ok = _campaign(names, args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
