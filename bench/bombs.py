"""Bombs benchmark: the memory of a `peernode serve` while hostile frames arrive over real links.

Run: .venv/bin/python bench/bombs.py [--times N]

One node runs as a subprocess on loopback. A client (tests/support/hostile.py) completes a
real Noise handshake with its own identity, is accepted as a neighbour and sends one hostile
frame per link; each kind is sent N times, one link after another. The node's VmRSS and
VmHWM (peak RSS) come from /proc/PID/status: at idle (the baseline), then after each kind.

Printed per kind: the mean and worst time from the frame to the node closing the link (for
the control, the link's whole life), RSS after the kind and its growth over the kind, and
the peak's growth over the idle baseline. The control row, honest links the client closes,
is the growth any link costs. A WebSocket closed by the node stays in memory until its
aiohttp heartbeat timer (15 s) fires, so growth follows the rate of links, not their number.
Figures only, no pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def mib(kib: int) -> str:
    return f"{kib / 1024:7.2f}"


async def honest(port: int) -> Any:
    """The control: a link that is accepted, then closed by the client."""
    from tests.support.hostile import CLOSE_WITHIN, HostilePeer, Outcome

    start = time.monotonic()
    peer = await HostilePeer.link(port)
    await peer.until_accepted(CLOSE_WITHIN)
    await peer.ws.close()
    return Outcome(time.monotonic() - start, None)


async def run(port: int, pid: int, times: int) -> None:
    from tests.support.hostile import ATTACKS, memory

    kinds = {"(control: honest link, client closes)": (honest, frozenset({None})), **ATTACKS}

    idle = memory(pid)
    print(f"node pid {pid}, {times} links per kind; idle: RSS {mib(idle['VmRSS'])} MiB,")
    print(f"peak {mib(idle['VmHWM'])} MiB (the baseline)\n")
    print(f"{'kind':<46} {'mean ms':>8} {'max ms':>7} {'RSS MiB':>8} {'growth':>7} {'peak+':>7}")
    previous = idle
    for name, (attack, codes) in kinds.items():
        took = []
        for _ in range(times):
            outcome = await attack(port)
            if outcome.code not in codes:
                print(f"  {name}: unexpected close code {outcome.code}")
            took.append(outcome.seconds * 1000)
        now = memory(pid)
        print(
            f"{name:<46} {statistics.mean(took):8.1f} {max(took):7.1f} {mib(now['VmRSS']):>8}"
            f" {mib(now['VmRSS'] - previous['VmRSS']):>7} {mib(now['VmHWM'] - idle['VmHWM']):>7}"
        )
        previous = now
    print(
        f"\nafter all: RSS {mib(previous['VmRSS'])} MiB ({mib(previous['VmRSS'] - idle['VmRSS'])}"
        f" over idle), peak {mib(previous['VmHWM'])} MiB"
        f" ({mib(previous['VmHWM'] - idle['VmHWM'])} over the idle peak)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=int, default=100, help="links per kind of bomb")
    parser.add_argument("--settle", type=float, default=3.0, help="idle seconds before")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from tests.support.nodes import ServeProcess

    with tempfile.TemporaryDirectory(prefix="pn-bench-") as tmp:
        node = ServeProcess(Path(tmp) / "a", name="Ada")
        try:
            time.sleep(args.settle)  # start-up work done: the idle figure is idle
            asyncio.run(run(node.port, node.process.pid, args.times))
            if node.process.poll() is not None:
                print(f"the node exited: {node.read_log()}")
        finally:
            node.stop()


if __name__ == "__main__":
    main()
