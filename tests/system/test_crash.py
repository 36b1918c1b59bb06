"""Killing a writer at any moment loses no acknowledged event and corrupts nothing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from peernode.storage.store import Store
from tests.support.bytecode import cached_bytecode

ROOT = Path(__file__).resolve().parents[2]
WRITER = ROOT / "tests" / "support" / "crash_writer.py"
RUNS = 8


class Drain(threading.Thread):
    """Reads a pipe to the end as it fills, so the writer never blocks on it."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.data = bytearray()
        self.ready = threading.Event()

    def run(self) -> None:
        while chunk := os.read(self.fd, 1 << 16):
            self.data += chunk
            if self.data.startswith(b"ready\n"):
                self.ready.set()
        self.ready.set()  # EOF: whoever waits must look at the data


def run_and_kill(db_path: Path, run: int, delay: float) -> list[bytes]:
    """Start a writer, SIGKILL it `delay` seconds after it is ready; return acked ids."""
    env = cached_bytecode({**os.environ, "PYTHONPATH": str(ROOT)})
    stderr_path = db_path.with_name(f"writer-{run}.stderr")
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(WRITER), str(db_path), str(run)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            bufsize=0,
        )
    assert process.stdout is not None
    drain = Drain(process.stdout.fileno())
    drain.start()
    try:
        assert drain.ready.wait(timeout=60)
        assert drain.data.startswith(b"ready\n"), stderr_path.read_text()
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        drain.join(timeout=30)
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL, stderr_path.read_text()
    lines = drain.data.decode().split("\n")
    # A line is an acknowledgement only when whole (a batch is written at once).
    return [bytes.fromhex(line) for line in lines[1:] if len(line) == 64]


def test_sigkill_loses_no_acknowledged_event(tmp_path: Path) -> None:
    db_path = tmp_path / "crash.db"
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    acknowledged: list[bytes] = []

    for run in range(RUNS):
        delay = rng.uniform(0.05, 0.5)
        acked = run_and_kill(db_path, run, delay)
        acknowledged.extend(acked)

        store = Store(db_path)
        try:
            assert store.integrity_check() == "ok", f"seed {seed}, run {run}"
            missing = set(acknowledged) - store.known_ids(acknowledged)
            assert not missing, f"seed {seed}, run {run}: {len(missing)} acknowledged ids lost"
            assert store.count() >= len(acknowledged)
        finally:
            store.close()
        print(f"run {run}: killed after {delay:.2f} s, {len(acked)} acknowledged")

    assert len(acknowledged) > 0
    assert len(set(acknowledged)) == len(acknowledged)
