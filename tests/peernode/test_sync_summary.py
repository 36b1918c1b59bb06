"""'In sync with N of M peers': the words of the status bar and of `peernode status`."""

from __future__ import annotations

from pathlib import Path

from peernode.views import NodeStatus, PeerStatus
from tests.conftest import RunCli

KEY = bytes(32)


def peer(number: int, *, linked: bool, in_sync: bool) -> PeerStatus:
    return PeerStatus(
        key=bytes([number]) * 32,
        name=f"peer {number}",
        address="192.168.1.2:7420",
        linked=linked,
        in_sync=in_sync,
        last_seen=1,
        events_exchanged=0,
    )


def summary(*peers: PeerStatus) -> str:
    return NodeStatus(KEY, "Ana", 7420, 3, peers).sync_summary


def test_only_peers_linked_now_count() -> None:
    assert summary() == "no one else here yet"
    assert summary(peer(1, linked=False, in_sync=True)) == "no peer online now"
    synced, syncing = peer(2, linked=True, in_sync=True), peer(3, linked=True, in_sync=False)
    assert summary(synced, peer(1, linked=False, in_sync=False)) == "in sync with 1 of 1 peer"
    assert summary(synced, syncing) == "in sync with 1 of 2 peers"


def test_a_status_round_trips_through_json() -> None:
    status = NodeStatus(KEY, "Ana", None, 3, (peer(1, linked=True, in_sync=True),), "on")
    assert NodeStatus.from_json(status.to_json()) == status


def test_status_on_a_new_home_says_no_one_else_is_here(tmp_path: Path, invoke_cli: RunCli) -> None:
    home = str(tmp_path / "home")
    assert invoke_cli("--home", home, "init", "--name", "Ana").returncode == 0
    shown = invoke_cli("--home", home, "status")
    assert shown.returncode == 0, shown.stderr
    assert "peers: 0 linked, no one else here yet" in shown.stdout.splitlines()
