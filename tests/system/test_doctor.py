"""`peernode doctor` through the real command: what it sees, and what it advises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.netns import Lan, requires_netns
from tests.support.nodes import ServeProcess, cli_env, peernode
from tests.support.waiting import wait_for


def doctor(home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "peernode", "--home", str(home), "doctor"],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_doctor_reports_the_running_node_and_its_links(tmp_path: Path) -> None:
    a = ServeProcess(tmp_path / "a", name="Ada")
    b = ServeProcess(tmp_path / "b", name="Ben", peers=[a.address])
    try:
        wait_for(
            lambda: any(p["linked"] for p in (a.status() or {}).get("peers", [])), "the link", 30
        )
        result = doctor(a.home)
    finally:
        b.stop()
        a.stop()
    assert result.returncode == 0, result.stderr
    assert f"You are Ada, reachable on port {a.port}" in result.stdout
    assert "Your node is on the network 'peernode-lan' (protocol 1.1)." in result.stdout
    assert "Linked to 1 peer: Ben at 127.0.0.1:" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.netns
@requires_netns
def test_doctor_alone_on_a_network_explains_what_to_try(tmp_path: Path) -> None:
    home = tmp_path / "alone"
    peernode(home, "init", "--name", "Lone")
    with Lan(["solo"]) as lan:
        argv = [sys.executable, "-m", "peernode", "--home", str(home), "doctor"]
        result = lan.run("solo", argv, check=False, env=cli_env(), timeout=60)
        address = lan.address("solo")
    assert result.returncode == 1
    assert "No node is running for this home" in result.stdout
    assert "this computer hears its own announcement" in result.stdout
    assert "No other peernode answers on this network." in result.stdout
    assert "Try: Check that everyone is on the same Wi-Fi" in result.stdout
    assert f"peernode connect {address}:7420" in result.stdout
