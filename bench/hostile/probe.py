"""Posts notes and watches a peer's arrive, through one node's local API (run in its namespace).

    python -m bench.hostile.probe --api-port 7430 --token pn1_... --watch HEX [--every 0.2]

Prints JSON lines, each with `t` (time.monotonic(), the same clock in every namespace):
`{"posted": ID}` when a note of ours is stored (the POST returned), `{"arrived": ID}` when
a note by the watched author was stored here (the API's stream), and every 0.5 s
`{"events": N, "linked": [KEY...], "in_sync": [KEY...]}`. Survives its node restarting:
posts that fail are skipped, the stream is subscribed again after the last seq it saw.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from typing import Any

import aiohttp

ERRORS = (aiohttp.ClientError, OSError, TimeoutError, ValueError, KeyError)


def say(**fields: Any) -> None:
    print(json.dumps({"t": time.monotonic(), **fields}), flush=True)


class Probe:
    def __init__(self, session: aiohttp.ClientSession, port: int, watch: str) -> None:
        self.session, self.base, self.watch = session, f"http://127.0.0.1:{port}/v1", watch
        self.after_seq: int | None = None

    async def get(self, path: str) -> Any:
        async with self.session.get(self.base + path) as response:
            response.raise_for_status()
            return await response.json()

    async def post_every(self, every: float, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            started = time.monotonic()
            body = {"text": f"probe {n} at {time.time():.3f}"}
            note = {"kind": "peernode/note@1", "circle": "lobby", "body": body}
            try:
                async with self.session.post(self.base + "/events", json=note) as response:
                    response.raise_for_status()
                    say(posted=(await response.json())["event"]["id"])
            except ERRORS as exc:
                say(post_failed=type(exc).__name__)
            n += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, every - time.monotonic() + started))

    async def stream(self) -> None:
        """Follow the watched author's events for good, subscribing again after a failure."""
        while True:
            try:
                if self.after_seq is None:
                    self.after_seq = int((await self.get("/status"))["max_seq"])
                await self._follow()
            except ERRORS:
                pass
            await asyncio.sleep(0.2)

    async def _follow(self) -> None:
        async with self.session.ws_connect(self.base.replace("http", "ws") + "/stream") as ws:
            await ws.send_json(
                {"type": "subscribe", "after_seq": self.after_seq, "author": self.watch}
            )
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                data = json.loads(message.data)
                if data.get("type") == "event":
                    self.after_seq = int(data["event"]["seq"])
                    say(arrived=data["event"]["id"])
                elif data.get("type") == "overflow":
                    break

    async def status_every(self, every: float) -> None:
        while True:
            try:
                status, peers = await self.get("/status"), await self.get("/peers")
                linked = [p["key"] for p in peers["peers"] if p["linked"]]
                in_sync = [p["key"] for p in peers["peers"] if p["linked"] and p["in_sync"]]
                say(events=status["events"], linked=linked, in_sync=in_sync)
            except ERRORS:
                say(events=None)
            await asyncio.sleep(every)


async def run(args: argparse.Namespace) -> None:
    headers = {"Authorization": f"Bearer {args.token}"}
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=2, sock_read=None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # SIGUSR1: stop posting (the runner's quiet end); SIGTERM ends the probe.
    loop.add_signal_handler(signal.SIGUSR1, stop.set)
    async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
        probe = Probe(session, args.api_port, args.watch)
        tasks = [asyncio.create_task(probe.stream()), asyncio.create_task(probe.status_every(0.5))]
        if args.every > 0:
            tasks.append(asyncio.create_task(probe.post_every(args.every, stop)))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--watch", required=True, help="hex key of the author to watch")
    parser.add_argument("--every", type=float, default=0.2, help="seconds between posts; 0: none")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args))
    sys.exit(0)


if __name__ == "__main__":
    main()
