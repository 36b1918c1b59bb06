"""One run's room: the victim, the honest peer and the attacker, each in a namespace.

Built on tests/support/netns.py: its Lan kills every process started through it and
deletes the namespaces when the run ends, also on an error or Ctrl-C. The attacker's
host gets three more addresses, so it can link from four.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from tests.support.netns import HOST_INTERFACE, Lan
from tests.support.nodes import cli_env

REPO = Path(__file__).resolve().parents[2]
PORT = 7420
API_PORT = 7430
SHAPE = ["tbf", "rate", "50mbit", "burst", "64kb", "latency", "100ms"]
EXTRA_SOURCES = 3


def env() -> dict[str, str]:
    environment = cli_env()
    environment["PYTHONPATH"] = str(REPO)
    return environment


def python(host: str, lan: Lan, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
    return lan.popen(host, [sys.executable, *argv], env=env(), cwd=REPO, **kwargs)


def attacker_sources(lan: Lan) -> list[str]:
    """The attacker's four addresses (its own and three more on the same interface)."""
    own = lan.address("attacker")
    prefix, _, last = own.rpartition(".")
    extra = [f"{prefix}.{int(last) + 100 + i}" for i in range(EXTRA_SOURCES)]
    for address in extra:
        lan.run("attacker", ["ip", "addr", "add", f"{address}/24", "dev", HOST_INTERFACE])
    return [own, *extra]


def shape(lan: Lan, host: str) -> None:
    """Shape the host's uplink to 50 Mbit/s with a token bucket (a Wi-Fi-like link)."""
    lan.run(host, ["tc", "qdisc", "add", "dev", HOST_INTERFACE, "root", *SHAPE])


class Node:
    """`peernode serve` in a host, linked to `peer` by name (--peer)."""

    def __init__(self, lan: Lan, host: str, home: Path, peer: str) -> None:
        self.lan, self.host, self.home, self.peer = lan, host, home, peer
        self.log = (home / "serve.log").open("ab")
        self.process = self._start()

    def _start(self) -> subprocess.Popen[Any]:
        argv = ["-m", "peernode", "--home", str(self.home), "serve", "--port", str(PORT)]
        if self.host in os.environ.get("HOSTILE_PROFILE", "").split(","):
            # cProfile of the event loop's thread, written when the node stops.
            argv = ["-m", "cProfile", "-o", str(self.home / "serve.prof"), *argv]
        argv += ["--peer", f"{self.peer}:{PORT}", "--no-mdns", "--api-port", str(API_PORT)]
        return python(self.host, self.lan, argv, stdout=self.log, stderr=subprocess.STDOUT)

    def restart(self) -> None:
        stop(self.process)
        self.process = self._start()

    def running(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        stop(self.process)
        self.log.close()


def stop(process: subprocess.Popen[Any], grace: float = 5.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Probe:
    """bench.hostile.probe in a host: its lines, kept as they come."""

    def __init__(self, lan: Lan, host: str, token: str, watch: str) -> None:
        argv = ["-m", "bench.hostile.probe", "--api-port", str(API_PORT), "--token", token]
        argv += ["--watch", watch]
        self.process = python(
            host, lan, argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self.lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._lock:
                self.lines.append(json.loads(line))

    def select(self, field: str) -> list[dict[str, Any]]:
        with self._lock:
            return [line for line in self.lines if line.get(field) is not None]

    def latest_status(self) -> dict[str, Any]:
        found = self.select("events")
        return found[-1] if found else {}

    def posted(self) -> list[tuple[float, str]]:
        return [(line["t"], line["posted"]) for line in self.select("posted")]

    def arrived(self) -> dict[str, float]:
        return {line["arrived"]: line["t"] for line in self.select("arrived")}

    def save(self, path: Path) -> None:
        """Every line so far, for a look after the run."""
        with self._lock:
            path.write_text("".join(json.dumps(line) + "\n" for line in self.lines))

    def stop_posting(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGUSR1)


class Rss:
    """The victim's resident memory, sampled every 0.25 s (MiB), and its CPU time."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _read(self, field: str) -> float:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._read("VmRSS"))
            self._stop.wait(0.25)

    def cpu(self) -> float:
        """CPU seconds the process has used so far (user and system)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> float:
        """The peak: the highest sample or the kernel's high-water mark, if higher."""
        self.peak = max(self.peak, self._read("VmHWM"))
        self._stop.set()
        return self.peak
