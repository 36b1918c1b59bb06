"""Real `peernode` processes on temporary homes, for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.support.bytecode import cached_bytecode
from tests.support.waiting import wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_env() -> dict[str, str]:
    env = cached_bytecode(dict(os.environ))
    env.pop("PEERNODE_HOME", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def peernode(home: Path, *args: str, check: bool = True, timeout: float = 60) -> str:
    """Run one CLI command to completion; returns stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "peernode", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"peernode {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def post_id(home: Path, text: str, *args: str) -> bytes:
    """`peernode post TEXT` (acknowledged: stored when it returns); the id of the note."""
    return bytes.fromhex(json.loads(peernode(home, "post", "--json", text, *args))["id"])


def serve_options(*, mdns: bool, heartbeat: float | None) -> list[str]:
    """`serve` options: mDNS off unless asked for; a short --heartbeat for a test that waits
    for a vanished peer to be noticed (None: the production default)."""
    options = [] if mdns else ["--no-mdns"]
    if heartbeat is not None:
        options += ["--heartbeat", str(heartbeat)]
    return options


class ServeProcess:
    """`peernode serve` in a subprocess; stopped with SIGTERM like a service manager."""

    def __init__(
        self,
        home: Path,
        *,
        name: str,
        port: int | None = None,
        peers: Sequence[str] = (),
        mdns: bool = False,
        prefix: Sequence[str] = (),
        heartbeat: float | None = None,
    ) -> None:
        self.home = home
        self.name = name
        self.port = port if port is not None else free_port()
        if not (home / "identity.key").exists():
            peernode(home, "init", "--name", name)
        argv = [*prefix, sys.executable, "-m", "peernode", "--home", str(home), "serve"]
        argv += ["--port", str(self.port)]
        for peer in peers:
            argv += ["--peer", peer]
        argv += serve_options(mdns=mdns, heartbeat=heartbeat)
        self.log = (home / "serve.log").open("ab")
        self._log_start = self.log.tell()  # a home served before keeps its older lines
        self.process = subprocess.Popen(
            argv, stdout=self.log, stderr=subprocess.STDOUT, env=cli_env()
        )
        wait_for(self._serving, f"{name} to start", 30)

    def _serving(self) -> bool:
        """Whether serve said it serves (after it answers `status`), read from its log
        rather than by starting a `status` process again and again."""
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited: {self.read_log()}")
        with (self.home / "serve.log").open("rb") as log:
            log.seek(self._log_start)
            return b"peernode serving as " in log.read()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def status(self) -> dict[str, Any] | None:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited: {self.read_log()}")
        result = subprocess.run(
            [sys.executable, "-m", "peernode", "--home", str(self.home), "status", "--json"],
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            return None
        status: dict[str, Any] = json.loads(result.stdout)
        return status if status.get("port") else None

    def feed_texts(self, circle: str | None = None) -> list[str]:
        args = ["feed", "--json"] + (["--channel", circle] if circle else [])
        lines = peernode(self.home, *args).splitlines()
        return [json.loads(line)["body"].get("text", "") for line in lines]

    def read_log(self) -> str:
        return (self.home / "serve.log").read_text(errors="replace")[-3000:]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


# --- nodes behind an argv prefix, e.g. inside a network namespace (tests/support/netns.py) ---


def cli_argv(home: Path, *args: str, prefix: Sequence[str] = ()) -> list[str]:
    """The argv of one CLI command, optionally wrapped (e.g. in `ip netns exec NS`)."""
    return [*prefix, sys.executable, "-m", "peernode", "--home", str(home), *args]


def feed_ids(home: Path) -> list[str]:
    """Ids of the events in a home's feed, in feed order (duplicates kept, to be counted)."""
    return [json.loads(line)["id"] for line in peernode(home, "feed", "--json").splitlines()]


def public_key(home: Path) -> str:
    """The hex public key of a home's identity (`id --json`)."""
    return str(json.loads(peernode(home, "id", "--json"))["key"])


def linked_of(status: dict[str, Any] | None) -> dict[str, str]:
    """key hex -> address of the linked peers in a `status --json` object."""
    peers = (status or {}).get("peers", [])
    return {p["key"]: p["address"] for p in peers if p["linked"]}


def status_of(home: Path, prefix: Sequence[str] = (), timeout: float = 30) -> dict[str, Any] | None:
    """`status --json` of the node running for `home` (behind `prefix`); None if it is not up."""
    result = subprocess.run(
        cli_argv(home, "status", "--json", prefix=prefix),
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        return None
    status: dict[str, Any] = json.loads(result.stdout)
    return status if status.get("port") else None


WATCH_SCRIPT = r"""
import contextlib, io, json, os, sys, time
from peernode.cli import main

home, every = sys.argv[1], float(sys.argv[2])
while True:
    out = io.StringIO()
    # Only once the node published its control port: an offline status would open the DB.
    if os.path.exists(os.path.join(home, "node.json")):
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            try:
                main(["--home", home, "status", "--json"])
            except SystemExit:
                pass
    try:
        status = json.loads(out.getvalue())
    except ValueError:
        status = None
    print(json.dumps({"t": time.monotonic(), "status": status}), flush=True)
    time.sleep(every)
"""


def init_homes(names: dict[Path, str], timeout: float = 60) -> None:
    """`peernode init --name N` for several homes at once (one process each, in parallel)."""
    procs = {
        home: subprocess.Popen(
            cli_argv(home, "init", "--name", name),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        for home, name in names.items()
    }
    for home, proc in procs.items():
        _, stderr = proc.communicate(timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(f"peernode init for {home} failed: {stderr.strip()}")


class StatusWatcher:
    """Runs `status --json` in-process every `every` seconds behind `prefix`; keeps every answer.

    The same CLI code as `peernode status --json`, minus a Python start-up per sample, so a
    test can both poll quickly and check that something never showed up in between polls.
    `samples` holds (time.monotonic() of the sample, status or None) in order.
    """

    def __init__(self, home: Path, prefix: Sequence[str] = (), every: float = 0.25) -> None:
        self.samples: list[tuple[float, dict[str, Any] | None]] = []
        self._lock = threading.Lock()
        self.process = subprocess.Popen(
            [*prefix, sys.executable, "-c", WATCH_SCRIPT, str(home), str(every)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=cli_env(),
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            sample = json.loads(line)
            status = sample["status"] if sample["status"] and sample["status"]["port"] else None
            with self._lock:
                self.samples.append((sample["t"], status))

    def latest(self) -> dict[str, Any] | None:
        with self._lock:
            return self.samples[-1][1] if self.samples else None

    def since(self, start: float) -> list[dict[str, Any] | None]:
        """The statuses sampled at or after time.monotonic() `start`."""
        with self._lock:
            return [status for t, status in self.samples if t >= start]

    def linked(self) -> dict[str, str]:
        return linked_of(self.latest())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()


class PrefixedServe:
    """`peernode serve` behind an argv prefix such as `ip netns exec NS`, with a StatusWatcher.

    Unlike ServeProcess it does not wait for the node in the constructor: start several, then
    `wait_started()` on each. The control API listens on the prefix's 127.0.0.1 (the
    namespace's own loopback), so status runs behind the same prefix; offline commands (post,
    feed, id) use the home directly and run anywhere.
    """

    def __init__(
        self,
        home: Path,
        *,
        name: str,
        prefix: Sequence[str] = (),
        port: int | None = None,
        peers: Sequence[str] = (),
        mdns: bool = True,
        watch_every: float | None = 0.25,
        heartbeat: float | None = None,
    ) -> None:
        self.home, self.name, self.prefix = home, name, tuple(prefix)
        if not (home / "identity.key").exists():
            init_homes({home: name})
        self.key = ""  # hex, known once the node answered (wait_started)
        argv = cli_argv(home, "serve", prefix=prefix)
        argv += ["--port", str(port if port is not None else free_port())]
        for peer in peers:
            argv += ["--peer", peer]
        argv += serve_options(mdns=mdns, heartbeat=heartbeat)
        self.log = (home / "serve.log").open("ab")
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            argv, stdout=self.log, stderr=subprocess.STDOUT, env=cli_env()
        )
        # None: no watcher, so nothing but peers ever connects to this node (status is None).
        self.watcher = None if watch_every is None else StatusWatcher(home, prefix, watch_every)

    def check_running(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited: {self.read_log()}")

    def status(self) -> dict[str, Any] | None:
        """The newest status sample (None until the node answers)."""
        self.check_running()
        return None if self.watcher is None else self.watcher.latest()

    def cli_status(self) -> dict[str, Any] | None:
        """A fresh `peernode status --json`, run as its own process behind the prefix."""
        self.check_running()
        return status_of(self.home, self.prefix)

    def linked(self) -> dict[str, str]:
        """key hex -> address of the peers linked now (newest sample)."""
        return linked_of(self.status())

    def wait_started(self, timeout: float = 30) -> dict[str, Any]:
        status: dict[str, Any] = wait_for(self.status, f"{self.name} to start", timeout)
        self.key = status["key"]
        return status

    def feed_ids(self) -> list[str]:
        return feed_ids(self.home)

    def read_log(self) -> str:
        return (self.home / "serve.log").read_text(errors="replace")[-3000:]

    def samples_since(self, start: float) -> list[dict[str, Any] | None]:
        """Every status sampled at or after time.monotonic() `start`."""
        return [] if self.watcher is None else self.watcher.since(start)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.watcher is not None:
            self.watcher.stop()
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


def stop_all(nodes: Sequence[PrefixedServe], timeout: float = 3) -> None:
    """SIGTERM every node at once, then reap them; SIGKILL whatever is left after `timeout`.

    The short default is deliberate: a node stopped while linked can hang in its shutdown
    (asyncio.wait_for in Network._timer_loop swallows the cancellation on Python 3.11).
    """
    for node in nodes:
        if node.watcher is not None:
            node.watcher.stop()
        if node.process.poll() is None:
            node.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for node in nodes:
        node.stop(timeout=max(0.1, deadline - time.monotonic()))
