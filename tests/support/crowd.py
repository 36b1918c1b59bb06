"""Crowds from one machine, run inside a test host: many identities, or many announcements.

python -m tests.support.crowd sybils HOST PORT COUNT
    COUNT fresh identities each dial HOST:PORT over the real link code and ask to be
    neighbours (Hello, Neighbor); prints one JSON line: how many were accepted, and
    why the others were closed. Holds the accepted links until stdin closes.
python -m tests.support.crowd announce ADDRESS COUNT FIRST_PORT
    Registers COUNT mDNS services of made-up peers (random keys) at ADDRESS, ports
    FIRST_PORT.. where nothing listens; prints "ready" and keeps them until stdin closes.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys

from peernode.net.config import LinkConfig
from peernode.net.link import Link, LinkError, LinkFactory
from protocol import wire
from protocol.identity import SigningKey

ANSWER_WITHIN = 10.0


async def _one_sybil(host: str, port: int, n: int) -> tuple[Link | None, str]:
    """Dial as a new identity; (link, "accepted") or (None, why it ended)."""

    async def unused(link: Link) -> None:
        await link.close("this crowd does not accept links")

    factory = LinkFactory(
        SigningKey.generate(),
        config=LinkConfig(),
        info=lambda: {"name": f"sybil{n}", "port": 0},
        on_link=unused,
    )
    try:
        link = await factory.dial(host, port)
    except LinkError as exc:
        await factory.close()
        return None, f"dial failed: {exc}"
    answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_payload(data: bytes) -> None:
        message = wire.decode(data)
        if isinstance(message, wire.NeighborReply) and not answer.done():
            answer.set_result("accepted" if message.accepted else "refused")
        elif isinstance(message, wire.Disconnect) and not answer.done():
            answer.set_result("disconnected")

    reader = asyncio.create_task(link.run(on_payload))
    link.send_nowait(wire.encode(wire.Hello(wire.PROTOCOL_VERSION, f"sybil{n}", None, 0)))
    link.send_nowait(wire.encode(wire.Neighbor(True)))
    done, _ = await asyncio.wait({reader, answer}, timeout=ANSWER_WITHIN)
    outcome = answer.result() if answer in done else ("closed" if reader in done else "no answer")
    if outcome == "accepted":
        return link, outcome
    await link.close("done")
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    await factory.close()
    return None, f"{outcome}: {link.close_reason}" if link.close_reason else outcome


async def sybils(host: str, port: int, count: int) -> None:
    results = [await _one_sybil(host, port, n) for n in range(count)]
    accepted = [link for link, _ in results if link is not None]
    print(
        json.dumps(
            {"accepted": len(accepted), "others": [why for link, why in results if link is None]}
        ),
        flush=True,
    )
    await asyncio.to_thread(sys.stdin.read)
    await asyncio.gather(*(link.close("crowd leaving") for link in accepted))


async def announce(address: str, count: int, first_port: int) -> None:
    from zeroconf import IPVersion, ServiceInfo
    from zeroconf.asyncio import AsyncZeroconf

    from peernode.net.discovery import PROTOCOL_VERSION, SERVICE_TYPE

    infos = [
        ServiceInfo(
            SERVICE_TYPE,
            f"fake{n}-{os.getpid()}.{SERVICE_TYPE}",
            port=first_port + n,
            properties={"v": PROTOCOL_VERSION, "k": os.urandom(32).hex(), "n": f"fake{n}"},
            server=f"fake{n}-{os.getpid()}.local.",
            addresses=[socket.inet_aton(address)],
        )
        for n in range(count)
    ]
    async with AsyncZeroconf(ip_version=IPVersion.V4Only) as zc:
        # No probing, all at once: a rogue responder does not wait its turn.
        register = zc.async_register_service
        await asyncio.gather(*[await register(i, cooperating_responders=True) for i in infos])
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.read)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "sybils":
        asyncio.run(sybils(args[0], int(args[1]), int(args[2])))
    elif command == "announce":
        asyncio.run(announce(args[0], int(args[1]), int(args[2])))
    else:
        raise SystemExit(f"unknown command {command!r}")
