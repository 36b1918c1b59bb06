"""A bulk import of 100,000 lines through the real `peernode import` command."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from peernode.storage.store import Store
from tests.conftest import RunCli
from tests.peernode.test_import import circle_of, write_jsonl


@pytest.mark.slow
def test_hundred_thousand_lines(tmp_path: Path, run_cli: RunCli) -> None:
    source = write_jsonl(
        tmp_path / "big.jsonl",
        [{"circle": circle_of(i), "text": f"bulk note {i}"} for i in range(100_000)],
    )
    home = tmp_path / "home"

    started = time.monotonic()
    result = run_cli("import", str(source), "--home", str(home), timeout=600)
    print(f"imported 100k lines in {time.monotonic() - started:.1f} s")

    assert result.returncode == 0, result.stderr
    store = Store(home / "peernode.db")
    try:
        assert store.count() == 100_000
        assert store.integrity_check() == "ok"
    finally:
        store.close()
