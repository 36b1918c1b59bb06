"""Crowds from one machine on a real LAN: many identities (Sybils) and an mDNS flood.

Vera and Hal run `peernode serve` in their own hosts and link by mDNS; a third host is the
crowd (tests/support/crowd.py). The defences: a cap on links per remote address, and a rate
limit on dials (protocol/gossip/config.py), so Hal keeps his link in both cases.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from protocol.gossip import GossipConfig
from protocol.gossip import config as c
from tests.support.netns import Lan, requires_netns
from tests.support.nodes import PrefixedServe, cli_env, init_homes, peernode, stop_all
from tests.support.waiting import wait_for
from tests.system.test_netns_room import PORT, at, feed_texts, start, tcp_counter

REPO = Path(__file__).resolve().parents[2]
CROWD = [sys.executable, "-m", "tests.support.crowd"]


def crowd(lan: Lan, host: str, *args: str) -> subprocess.Popen[str]:
    return lan.popen(
        host,
        [*CROWD, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=cli_env(),
    )


def first_line(proc: subprocess.Popen[str], within: float, what: str) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], within)
    assert ready, f"no answer from {what} within {within} s"
    line = proc.stdout.readline().strip()
    assert line, f"{what} ended without answering (exit {proc.poll()})"
    return line


def active_opens(lan: Lan, host: str) -> int:
    """TCP connections this host has tried to open so far (refused ones included)."""
    return tcp_counter(lan, host, "ActiveOpens")


@pytest.mark.netns
@pytest.mark.slow
@requires_netns
def test_many_identities_from_one_address_get_two_links_and_hal_keeps_his(
    tmp_path: Path,
) -> None:
    cap = GossipConfig().max_links_per_host
    names = {"a": "Vera", "b": "Hal"}
    with Lan(["a", "b", "s"]) as lan:
        init_homes({tmp_path / host: name for host, name in names.items()})
        nodes: dict[str, PrefixedServe] = {}
        try:
            for host, name in names.items():
                nodes[host] = start(lan, tmp_path, host, name)
            vera, hal = (node for node in nodes.values())
            for node in nodes.values():
                node.wait_started()
            wait_for(lambda: hal.key in vera.linked(), "Vera and Hal to link by mDNS", 30)

            sybils = crowd(lan, "s", "sybils", lan.address("a"), str(PORT), "6")
            since = time.monotonic()
            outcome = json.loads(first_line(sybils, 120, "the sybils"))
            assert outcome["accepted"] == cap, outcome
            assert len(outcome["others"]) == 6 - cap
            assert all(why.startswith("disconnected") for why in outcome["others"]), outcome

            sybil_address = f"{lan.address('s')}:"
            wait_for(lambda: vera.status() is not None, "a fresh status", 10)
            from_sybils = [k for k, a in vera.linked().items() if a.startswith(sybil_address)]
            assert len(from_sybils) == cap, vera.linked()
            # Hal's link held through it all, and gossip still flows.
            samples = [s for s in vera.samples_since(since) if s is not None]
            assert samples
            assert all(hal.key in (p["key"] for p in s["peers"] if p["linked"]) for s in samples)
            assert vera.linked()[hal.key] == at(lan, "b")
            peernode(hal.home, "post", "still here")
            wait_for(lambda: "still here" in feed_texts(vera.home), "Hal's note at Vera", 20)
            assert sybils.stdin is not None
            sybils.stdin.close()
        finally:
            stop_all(list(nodes.values()))


@pytest.mark.netns
@pytest.mark.slow
@requires_netns
def test_an_mdns_flood_is_dialled_slowly_and_hal_keeps_his_link(tmp_path: Path) -> None:
    names = {"a": "Vera", "b": "Hal"}
    fakes, watch = 300, 15.0
    with Lan(["a", "b", "m"]) as lan:
        init_homes({tmp_path / host: name for host, name in names.items()})
        nodes: dict[str, PrefixedServe] = {}
        try:
            # No status watcher on Vera: every TCP connection her host opens is then a dial.
            nodes["a"] = vera = start(lan, tmp_path, "a", "Vera", watch_every=None)
            nodes["b"] = hal = start(lan, tmp_path, "b", "Hal")
            hal.wait_started()
            wait_for(lambda: len(hal.linked()) == 1, "Hal and Vera to link by mDNS", 30)
            vera_key = next(iter(hal.linked()))

            before = active_opens(lan, "a")
            flood = crowd(lan, "m", "announce", lan.address("m"), str(fakes), "30000")
            assert first_line(flood, 60, "the flood") == "ready"
            since = time.monotonic()
            time.sleep(watch)  # the window the dial rate is measured over, not a wait
            dials = active_opens(lan, "a") - before
            elapsed = time.monotonic() - since + 5  # the flood started up to 5 s earlier

            # Vera heard the flood and dialled some of it, at the limited pace only.
            assert dials >= 3, dials
            assert dials <= c.DIAL_BURST + c.DIAL_RATE * elapsed + 2, (dials, elapsed)
            # Hal's link held all along.
            samples = [s for s in hal.samples_since(since) if s is not None]
            assert len(samples) >= watch  # about four a second
            assert all(vera_key in (p["key"] for p in s["peers"] if p["linked"]) for s in samples)
            status = vera.cli_status()
            assert status is not None
            assert [p["key"] for p in status["peers"] if p["linked"]] == [hal.key]
            peernode(hal.home, "post", "through the flood")
            wait_for(lambda: "through the flood" in feed_texts(vera.home), "Hal's note", 20)
            assert flood.stdin is not None
            flood.stdin.close()
        finally:
            stop_all(list(nodes.values()))
