"""Fair sending: one peer downloads a large backlog while another exchanges fresh notes.

Run on a shaped loopback (a 50 Mbit/s Wi-Fi-like uplink), in a namespace of its own:

    unshare -rn sh -c 'ip link set lo mtu 1500 up &&
      tc qdisc add dev lo root tbf rate 50mbit burst 64kb latency 100ms &&
      PYTHONPATH=. .venv/bin/python bench/fairsend.py'

Three parties in this process: the victim V and an honest node A, linked and in sync,
both holding a backlog of large notes (--backlog of about 32 KB, by a third author, not
in V's cache of recent events: read from the store); and a peer B that completes the
handshake and asks V for the whole backlog, keeping --window ids outstanding as a
catching-up node does (with --a-behind, A lacks the backlog and fetches it from V as
well, on the same link as V's fresh notes). While B downloads, V and A each post a small note every
--every seconds. Prints the time from post to arrival of V's notes at A and of A's at V
(p50/max), and B's download. Figures only, no pass/fail.

With --rewant N, B is an attacker: it asks for the whole backlog N times over (V answers
one link the same event at most 3 times), as fast as V sends, for as long as the notes go
on; with --sybils K it does so on K links with fresh keys. --compare runs the same scenario
twice in one process, first with the serving budget off (V sends as fast as asked), then
with the default budget (docs/security.md, "Serving budget").
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.net.serving import ServingConfig
from peernode.node import Node, NodeConfig
from protocol import wire
from protocol.event import Event, create_event, event_id
from protocol.handshake import Payload
from protocol.identity import SigningKey
from tests.support.hostile import Closed, HostilePeer, note_text_for
from tests.support.waiting import eventually

HOST = "127.0.0.1"
BUDGET = ServingConfig()
UNLIMITED = ServingConfig(peer_rate=1e15, peer_burst=1e15, total_rate=1e15, total_burst=1e15)


def backlog(count: int) -> list[Event]:
    carol = SigningKey.generate()
    start = int(time.time() * 1000) - 86_400_000
    return [
        create_event(
            carol,
            kind="peernode/note@1",
            circle="lobby",
            body={"text": note_text_for(32_880, start + n)[:-6] + f"{n:06}"},
            created_at=start + n,
        )
        for n in range(count)
    ]


async def started(
    home: Path, name: str, events: list[Event], serving: ServingConfig = BUDGET
) -> Node:
    network = NetworkConfig(port=0, host=HOST, mdns=False, serving=serving)
    node = Node(Home(home), NodeConfig(network=network, verify_workers=1, watch=False))
    await node.__aenter__()
    await node.create_identity(name)
    await node.store_signed(events)  # before the network: not in its cache of recent events
    await node.start_network()
    return node


class Downloader:
    """Peer B: asks V for `ids`, `window` outstanding at a time, and reads everything."""

    def __init__(self, peer: HostilePeer, ids: list[bytes], window: int, rounds: int = 1) -> None:
        self.peer, self.window = peer, window
        self.ids = ids * rounds  # asked again and again: counted as received each time
        self.wanted = set(ids)
        self.got: set[bytes] = set()
        self.received = 0
        self.bytes = 0
        self.asked = 0
        self.closed = ""
        self.done_at = 0.0

    async def run(self) -> None:
        await self._ask()
        try:
            while self.received < len(self.ids):
                payload = (await self.peer.ws.receive()).payload
                self.bytes += len(payload)
                for event in self.peer.channel.receive(payload):
                    if isinstance(event, Payload):
                        message = wire.decode(event.data)
                        if isinstance(message, wire.Events):
                            # Only what it asked for: V pushes its fresh notes to B too.
                            ids = [i for i in map(event_id, message.raws) if i in self.wanted]
                            self.got.update(ids)
                            self.received += len(ids)
                if self.asked - self.received <= self.window // 2:
                    await self._ask()
        except Closed as closed:
            self.closed = f"closed by V (code {closed.code})"
        self.done_at = time.monotonic()

    async def _ask(self) -> None:
        while self.asked < len(self.ids) and self.asked - self.received < self.window:
            batch = self.ids[self.asked : self.asked + min(wire.MAX_IDS, self.window // 2)]
            await self.peer.send(wire.encode(wire.Want(batch)))
            self.asked += len(batch)


def in_sync(node: Node) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return all(peer.in_sync for peer in (await node.status()).peers)

    return check


async def arrivals(node: Node, seen: dict[bytes, float]) -> None:
    subscription = node.subscribe()
    try:
        while True:
            event = await subscription.queue.get()
            seen.setdefault(event.id, time.monotonic())
    finally:
        node.unsubscribe(subscription)


def figures(name: str, posted: dict[bytes, float], seen: dict[bytes, float]) -> str:
    delays = sorted(seen[i] - t for i, t in posted.items() if i in seen)
    lost = len(posted) - len(delays)
    if not delays:
        return f"{name}: none of {len(posted)} arrived"
    return (
        f"{name}: p50 {statistics.median(delays) * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms"
        f" ({len(delays)} notes{f', {lost} never arrived' if lost else ''})"
    )


async def main(args: argparse.Namespace) -> None:
    events = backlog(args.backlog)
    if not args.compare:
        await scenario(args, events, BUDGET)
        return
    for title, serving in (("serving budget off", UNLIMITED), ("serving budget on", BUDGET)):
        print(f"--- {title}")
        await scenario(args, events, serving)


async def scenario(args: argparse.Namespace, events: list[Event], serving: ServingConfig) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        v = await started(Path(tmp) / "v", "Victim", events, serving)
        a = await started(Path(tmp) / "a", "Honest", [] if args.a_behind else events)
        try:
            assert v._network is not None
            assert v._network.port is not None
            await a.connect(HOST, v._network.port)
            if not args.a_behind:
                await eventually(in_sync(a), "A in sync with V", within=120)
            seen_a: dict[bytes, float] = {}
            seen_v: dict[bytes, float] = {}
            watchers = [
                asyncio.create_task(arrivals(a, seen_a)),
                asyncio.create_task(arrivals(v, seen_v)),
            ]
            bs: list[Downloader] = []
            for _ in range(max(1, args.sybils)):
                peer = await HostilePeer.link(v._network.port)
                await peer.until_accepted(10)
                bs.append(Downloader(peer, [e.id for e in events], args.window, args.rewant))
            start = time.monotonic()
            downloads = [asyncio.create_task(b.run()) for b in bs]
            download = asyncio.gather(*downloads, return_exceptions=True)
            from_v: dict[bytes, float] = {}
            from_a: dict[bytes, float] = {}
            for n in range(args.notes):
                await asyncio.sleep(args.every)
                from_v[(await v.post(f"victim note {n}", channel="lobby")).id] = time.monotonic()
                from_a[(await a.post(f"honest note {n}", channel="lobby")).id] = time.monotonic()
                if download.done() and not args.rewant > 1:
                    print(f"(B finished after {n + 1} of {args.notes} notes)")
                    break
            end = time.monotonic()
            if args.rewant > 1:  # the attack lasts as long as the notes
                download.cancel()
            await asyncio.sleep(args.settle)
            await asyncio.wait({download}, timeout=args.settle * 10)
            print(f"backlog: {len(events)} notes, {len(events) * 32_880 / 1e6:.1f} MB")
            for b in bs:
                took = (b.done_at or end) - start
                print(
                    f"B got {b.received} notes, {b.bytes / 1e6:.1f} MB in {took:.1f} s"
                    f" ({b.bytes * 8 / took / 1e6:.1f} Mbit/s)"
                    f"{'; ' + b.closed if b.closed else ''}"
                )
            if v._network is not None:
                charged = v._network._gate.scheduler._servers
                print("V charged:", {k.hex()[:8]: s.sent for k, s in charged.items()})
            print(figures("V's notes at A", from_v, seen_a))
            print(figures("A's notes at V", from_a, seen_v))
            download.cancel()
            for task in watchers:
                task.cancel()
            for b in bs:
                await b.peer.ws.close()
        finally:
            await a.__aexit__(None, None, None)
            await v.__aexit__(None, None, None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=1500)
    parser.add_argument("--window", type=int, default=1000)
    parser.add_argument("--notes", type=int, default=30)
    parser.add_argument("--every", type=float, default=0.25)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument(
        "--a-behind", action="store_true", help="A lacks the backlog and catches up from V too"
    )
    parser.add_argument("--rewant", type=int, default=1, help="B asks for the backlog N times")
    parser.add_argument("--sybils", type=int, default=1, help="B's links, each a fresh key")
    parser.add_argument(
        "--compare", action="store_true", help="run without, then with, the serving budget"
    )
    asyncio.run(main(parser.parse_args()))
