"""./scripts/run once set up: the room starts with no package index reachable."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "scripts" / "run"
STAMP = ROOT / ".venv" / ".peernode-installed"


def run_offline(home: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """`./scripts/run --version` with pip told to use no index at all."""
    env = {**os.environ, "PIP_NO_INDEX": "1", "PEERNODE_HOME": str(home)}
    started = time.monotonic()
    result = subprocess.run(
        [str(RUN), "--version"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return result, time.monotonic() - started


def test_the_room_starts_with_no_package_index(tmp_path: Path) -> None:
    """One test, not two: the second half changes the stamp the first half relies on."""
    pyproject = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != pyproject:
        pytest.skip("needs the environment ./scripts/test sets up for this pyproject.toml")

    # A second start: nothing to install, pip is not even asked.
    result, took = run_offline(tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert "version" in result.stdout
    assert result.stderr == ""
    print(f"./scripts/run --version, set up before, no index: {took:.2f} s")

    # pyproject.toml changed since the set-up, and no index: start what is there, and say so.
    saved = STAMP.read_text()
    STAMP.write_text("a pyproject.toml of another version\n")
    try:
        result, _ = run_offline(tmp_path / "home")
    finally:
        STAMP.write_text(saved)
    assert result.returncode == 0, result.stderr
    assert "version" in result.stdout
    assert "starting the one set up before" in result.stderr
