"""Fixtures shared by the protocol and node tests: a fresh home and the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from peernode.home import HOME_ENV, Home

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """A home directory that does not exist yet (the node creates it)."""
    return Home(tmp_path / "home")


@pytest.fixture(scope="session")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of CLI subprocesses: no $PEERNODE_HOME, no stray user data."""
    env = {k: v for k, v in os.environ.items() if k != HOME_ENV}
    env["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    env["PYTHONUTF8"] = "1"
    return env


@pytest.fixture(scope="session")
def run_cli(cli_env: dict[str, str]) -> RunCli:
    """Run `python -m peernode ARGS...` in a real subprocess; never raises on exit code."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "peernode", *args],
            capture_output=True,
            text=True,
            env=env if env is not None else cli_env,
            timeout=timeout,
            check=False,
        )

    return run
