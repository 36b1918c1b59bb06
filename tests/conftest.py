"""Fixtures shared by the protocol and node tests: a fresh home and the CLI, real or in-process."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner

from peernode.cli import run
from peernode.home import HOME_ENV, Home
from tests.support.bytecode import cached_bytecode

RunCli = Callable[..., subprocess.CompletedProcess[str]]

TESTS = Path(__file__).parent
SPREAD_FOLDERS = ("system", "fuzz")
"""Folders of long scenarios, whose modules are spread through the run (see below)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Spread the modules of the long scenarios evenly among the unit tests, the first at
    the start: each xdist worker then begins with a long one and overlaps its waits with
    short CPU-bound tests, instead of all of them meeting at the end of the run.

    Modules stay in one piece, so a module-scoped fixture is set up once.
    """
    modules: dict[Path, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.path, []).append(item)
    long = [m for path, m in modules.items() if _folder(path) in SPREAD_FOLDERS]
    short = [m for path, m in modules.items() if _folder(path) not in SPREAD_FOLDERS]
    if not long or not short:
        return
    step = sum(map(_functions, short)) / len(long)
    ordered: list[pytest.Item] = []
    placed = done = 0  # long modules placed, short test functions placed
    for module in short:
        # The next long module goes in once the short tests before it fill their share.
        while placed < len(long) and done >= placed * step:
            ordered += long[placed]
            placed += 1
        ordered += module
        done += _functions(module)
    for module in long[placed:]:
        ordered += module
    items[:] = ordered


def _functions(module: list[pytest.Item]) -> int:
    """Test functions in a module, a parametrized one once: a rough measure of its time
    (one module holds 500 cases of a table that take a second together)."""
    return len({getattr(item, "originalname", item.name) for item in module})


def _folder(path: Path) -> str:
    """The first folder under tests/ of a test module (\"\" outside tests/)."""
    return path.relative_to(TESTS).parts[0] if TESTS in path.parents else ""


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """A home directory that does not exist yet (the node creates it)."""
    return Home(tmp_path / "home")


@pytest.fixture
def utc() -> Iterator[None]:
    """Local time is UTC (meeting times in screenshots and texts do not depend on the machine)."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture(scope="session")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of CLI subprocesses: no $PEERNODE_HOME, no stray user data."""
    env = cached_bytecode({k: v for k, v in os.environ.items() if k != HOME_ENV})
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


@pytest.fixture(scope="session")
def invoke_cli(cli_env: dict[str, str]) -> RunCli:
    """Run `peernode ARGS...` in this process, as `run_cli` would in a subprocess.

    It goes through `peernode.cli.run`, the same error funnel and exit codes as the real
    command, with the environment of `cli_env` (`env` adds or, with None, removes variables);
    only the start of a Python process (about a second each) is left out."""

    def invoke(
        *args: str, env: Mapping[str, str | None] | None = None
    ) -> subprocess.CompletedProcess[str]:
        overrides = {HOME_ENV: None, "XDG_DATA_HOME": cli_env["XDG_DATA_HOME"], **(env or {})}
        with CliRunner().isolation(env=overrides) as (stdout, stderr, _):
            code = _run_as_a_process_would(list(args))
        return subprocess.CompletedProcess(
            ["peernode", *args],
            code,
            stdout.getvalue().decode("utf-8", "replace"),
            stderr.getvalue().decode("utf-8", "replace"),
        )

    return invoke


def _run_as_a_process_would(argv: list[str]) -> int:
    # A process with no logging set up prints warnings on stderr (logging's last resort);
    # pytest's own handlers would swallow them, so mirror that for the command's duration.
    echo = logging.StreamHandler(sys.stderr)
    echo.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(echo)
    try:
        return run(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    finally:
        root.removeHandler(echo)
