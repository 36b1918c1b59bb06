"""Real `peernode` processes on temporary homes, for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
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


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


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
        if not mdns:
            argv.append("--no-mdns")
        self.log = (home / "serve.log").open("ab")
        self.process = subprocess.Popen(
            argv, stdout=self.log, stderr=subprocess.STDOUT, env=cli_env()
        )
        wait_for(lambda: self.status() is not None, 30, f"{name} to start")

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
        args = ["feed", "--json"] + (["--circle", circle] if circle else [])
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
