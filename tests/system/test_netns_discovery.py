"""Discovery between separate hosts: real multicast across a bridge of network namespaces.

Each node is a separate process started inside its host's namespace (see netns.py) running
NODE_SCRIPT: it runs a Discovery with the default `InterfaceChoice.All` (so `lo` and the
namespace's `eth0`), calls `refresh()` periodically as the node does, and prints one JSON
object per line on stdout. Commands arrive on stdin, one per line ("quit").
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.netns import Lan, clean_stale, requires_netns

pytestmark = [pytest.mark.netns, requires_netns]

REPO = Path(__file__).resolve().parents[2]
WAIT = 10.0

NODE_SCRIPT = r"""
import asyncio, json, logging, sys
from peernode.net.discovery import Discovery

name, key_hex, port, refresh_every = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
logging.basicConfig(level=logging.INFO, stream=sys.stderr)

def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)

def peer(kind):
    def callback(hint):
        emit(kind, instance=hint.instance, name=hint.name, key=hint.key_hint.hex(),
             addresses=list(hint.addresses), port=hint.port)
    return callback

async def main():
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    node = Discovery(public_key=bytes.fromhex(key_hex), port=port, name=name,
                     on_found=peer("found"), on_lost=peer("lost"))
    async with node:
        emit("ready", instance=node.instance, heard=await node.announcement_heard(2.0))

        async def refresher():
            while True:
                await asyncio.sleep(refresh_every)
                if await node.refresh():
                    emit("refreshed")

        task = asyncio.create_task(refresher())
        while (line := (await commands.readline()).decode().strip()) not in ("quit", ""):
            emit("unknown-command", line=line)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    emit("stopped")

asyncio.run(main())
"""


class Node:
    """One node process and the events it printed, collected by a reader thread."""

    def __init__(self, lan: Lan, host: str, name: str, port: int, refresh_every: float) -> None:
        self.host, self.name, self.key = host, name, os.urandom(32)
        self.events: list[dict[str, Any]] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        argv = [sys.executable, "-c", NODE_SCRIPT, name, self.key.hex(), str(port)]
        self.proc = lan.popen(
            host,
            [*argv, str(refresh_every)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"},
        )
        self.stderr: list[str] = []  # drained continuously so the child never blocks on it
        self._readers = [
            threading.Thread(target=self._read, name=f"{name}-stdout", daemon=True),
            threading.Thread(target=self._read_stderr, name=f"{name}-stderr", daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self._queue.put(json.loads(line))
            except ValueError:
                self._queue.put({"event": "garbage", "line": line})
        self._queue.put(None)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        self.stderr.extend(self.proc.stderr)

    def join(self) -> None:
        for reader in self._readers:
            reader.join(WAIT)

    def wait_for(self, predicate: Callable[[], bool], what: str, within: float = WAIT) -> None:
        deadline = time.monotonic() + within
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.name}: timed out waiting for {what}: {self.events}")
            try:
                event = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if event is None:
                raise AssertionError(f"{self.name} exited while waiting for {what}: {self.events}")
            self.events.append(event)

    def drain(self) -> None:
        """Collect whatever has been printed so far without waiting."""
        while True:
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                return
            if event is not None:
                self.events.append(event)

    def count(self, event: str) -> int:
        return sum(e["event"] == event for e in self.events)

    def wait_event(self, event: str, at_least: int = 1) -> None:
        self.wait_for(lambda: self.count(event) >= at_least, f"{at_least} x {event!r}")

    def wait_found(self, *instances: str) -> None:
        self.wait_for(lambda: set(instances) <= self.found().keys(), f"finding {instances}")

    def wait_lost(self, *instances: str) -> None:
        self.wait_for(lambda: set(instances) <= self.lost(), f"losing {instances}")

    def found(self) -> dict[str, dict[str, Any]]:
        return {e["instance"]: e for e in self.events if e["event"] == "found"}

    def lost(self) -> set[str]:
        return {e["instance"] for e in self.events if e["event"] == "lost"}

    @property
    def instance(self) -> str:
        return str(next(e["instance"] for e in self.events if e["event"] == "ready"))

    def quit(self) -> str:
        """Ask for a clean exit (goodbye packets), return stderr; fail on a non-zero exit."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.wait_event("stopped")
        self.proc.wait(WAIT)
        self.join()
        stderr = "".join(self.stderr)
        assert self.proc.returncode == 0, stderr
        return stderr


@contextmanager
def nodes_on(lan: Lan) -> Iterator[list[Node]]:
    started: list[Node] = []
    try:
        yield started
    finally:
        lan.down()  # stops any node still running, closing its pipes
        for node in started:
            node.join()


def test_three_hosts_find_each_other_and_rediscover_after_a_partition() -> None:
    with Lan(["a", "b", "c"]) as lan, nodes_on(lan) as started:
        a, b, c = (Node(lan, h, f"node-{h}", 7000 + i, 0.3) for i, h in enumerate("abc"))
        started += [a, b, c]
        for node in (a, b, c):
            node.wait_event("ready")
            assert next(e for e in node.events if e["event"] == "ready")["heard"] is True

        # Everyone finds the two others, with the right key, port and LAN address.
        for node in (a, b, c):
            others = [o for o in (a, b, c) if o is not node]
            node.wait_found(*(o.instance for o in others))
            assert node.instance not in node.found()
            for other in others:
                hint = node.found()[other.instance]
                assert hint["key"] == other.key.hex()
                assert hint["port"] == 7000 + "abc".index(other.host)
                assert hint["addresses"] == [lan.address(other.host)]

        # Partition: c's cable is pulled. A node started on c now cannot be heard ...
        lan.cut("c")
        c.wait_event("refreshed")  # c noticed its link went down
        late = Node(lan, "c", "late-c", 7009, 0.3)
        started.append(late)
        late.wait_event("ready")
        # A leak would be a packet heard that should not be, which nothing else announces:
        # a bounded wait, far longer than a multicast packet takes on a bridge.
        time.sleep(1.0)
        for node in (a, b):
            node.drain()
            assert late.instance not in node.found(), "a cut host must not be heard"
        assert not (a.lost() | b.lost()), "no goodbye crossed the partition"

        # ... heal: the late node's refresh() sees its link return and announces itself.
        # (The others' own browse queries may pick it up as well; either way it is seen.)
        late.drain()
        refreshes = late.count("refreshed")
        lan.heal("c")
        late.wait_event("refreshed", refreshes + 1)
        for node in (a, b):
            node.wait_found(late.instance)
            hint = node.found()[late.instance]
            assert hint["addresses"] == [lan.address("c")]
            assert hint["key"] == late.key.hex()

        # A clean exit sends goodbyes: the others drop c now, not after the record TTL.
        for stderr in (c.quit(), late.quit()):
            assert "Traceback" not in stderr
        for node in (a, b):
            node.wait_lost(c.instance, late.instance)
        for node in (a, b):
            assert "Traceback" not in node.quit()


def test_lan_tears_down_and_removes_leftovers_of_crashed_runs() -> None:
    dead = f"pn{2**22 + 12345}-0-sw"  # above pid_max on default systems: never a live pid
    subprocess.run(["ip", "netns", "add", dead], check=True, timeout=10)
    try:
        with Lan(2) as lan:
            names = set(
                subprocess.run(
                    ["ip", "netns", "list"], capture_output=True, text=True, check=True, timeout=10
                ).stdout.split()
            )
            assert dead not in names
            assert {lan.switch, lan.netns("h0"), lan.netns("h1")} <= names
            sleeper = lan.popen("h0", ["sleep", "60"])
    finally:
        clean_stale(dead)
    assert sleeper.poll() is not None
    names = set(
        subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.split()
    )
    assert not {n for n in names if n.startswith(lan.prefix)}


def test_netinfo_sees_link_state_inside_a_namespace() -> None:
    probe = (
        "import json; from peernode.net.netinfo import list_interfaces as li; "
        "print(json.dumps({i.name: [i.is_up, list(i.addresses)] for i in li()}))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with Lan(["x"]) as lan:
        seen = json.loads(lan.run("x", [sys.executable, "-c", probe], env=env).stdout)
        assert seen["eth0"][0] is True
        assert lan.address("x") in seen["eth0"][1]
        assert seen["lo"][0] is True
        lan.cut("x")
        seen = json.loads(lan.run("x", [sys.executable, "-c", probe], env=env).stdout)
        assert seen["eth0"][0] is False  # carrier gone, address still configured
        assert lan.address("x") in seen["eth0"][1]
