"""The room on a real LAN: `peernode serve` processes in network namespaces (see netns.py).

Each node runs `peernode --home H serve --port 7420` inside its own host and finds the others
by real mDNS multicast across the bridge, with no --peer. `status` runs inside the node's host
(the control API listens on that namespace's 127.0.0.1), sampled every 0.25 s by a
StatusWatcher; posting and reading the feed use the home directly, from the test process.

The last tests need no namespaces: hostile connections to a node on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from peernode.net.link import PATH
from protocol.errors import ProtocolError
from protocol.handshake import HandshakeMessage, Role, SecureChannel
from protocol.identity import SigningKey
from tests.support.netns import Lan, requires_netns
from tests.support.nodes import (
    PrefixedServe,
    cli_env,
    feed_ids,
    free_port,
    init_homes,
    linked_of,
    peernode,
    public_key,
    stop_all,
)
from tests.support.sockets import SYN_SENT, DialWatch
from tests.support.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
PORT = 7420
HEARTBEAT = 1.5  # serve --heartbeat where a test waits for a cut to be noticed
HANDSHAKE_TIMEOUT = 10.0  # LinkConfig.handshake_timeout
CONNECT_TIMEOUT = 5.0  # LinkConfig.connect_timeout
CONVERGE_WITHIN = 60.0  # after a partition heals


# --- helpers -------------------------------------------------------------------------------


@contextlib.contextmanager
def room(
    lan: Lan, tmp_path: Path, names: dict[str, str], **kwargs: Any
) -> Iterator[dict[str, PrefixedServe]]:
    """`peernode serve --port 7420` (mDNS on, no --peer) in each host, started together;
    `kwargs` go to every PrefixedServe."""
    init_homes({tmp_path / host: name for host, name in names.items()})
    nodes: dict[str, PrefixedServe] = {}
    try:
        for host, name in names.items():
            nodes[host] = start(lan, tmp_path, host, name, **kwargs)
        for node in nodes.values():
            node.wait_started()
        yield nodes
    finally:
        stop_all(list(nodes.values()))


def start(lan: Lan, tmp_path: Path, host: str, name: str, **kwargs: Any) -> PrefixedServe:
    prefix = lan.command(host, [])
    return PrefixedServe(tmp_path / host, name=name, prefix=prefix, port=PORT, **kwargs)


def at(lan: Lan, host: str) -> str:
    return f"{lan.address(host)}:{PORT}"


def fully_linked(lan: Lan, nodes: dict[str, PrefixedServe]) -> bool:
    """Every node is linked to every other one, each under its own LAN address."""
    return all(
        node.linked() == {other.key: at(lan, h) for h, other in nodes.items() if h != host}
        for host, node in nodes.items()
    )


def wait_fully_linked(lan: Lan, nodes: dict[str, PrefixedServe], within: float, what: str) -> None:
    try:
        wait_for(lambda: fully_linked(lan, nodes), what, within)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; links: {links(nodes)}") from None


def links(nodes: dict[str, PrefixedServe]) -> str:
    """Who is linked to whom, for failure messages."""
    names = {node.key: host for host, node in nodes.items()}
    return "; ".join(
        f"{host}->{','.join(sorted(names.get(k, k[:8]) for k in node.linked())) or '-'}"
        for host, node in nodes.items()
    )


def feed_texts(home: Path) -> list[str]:
    lines = peernode(home, "feed", "--json").splitlines()
    return [json.loads(line)["body"].get("text", "") for line in lines]


def wait_for_text(home: Path, text: str, within: float, what: str) -> None:
    wait_for(lambda: text in feed_texts(home), what, within)


def all_feed_ids(nodes: dict[str, PrefixedServe]) -> dict[str, list[str]]:
    """Every node's feed ids (one CLI process each, in parallel)."""
    with ThreadPoolExecutor(len(nodes)) as pool:
        found = pool.map(lambda node: feed_ids(node.home), nodes.values())
        return dict(zip(nodes, found, strict=True))


def tcp_counter(lan: Lan, host: str, name: str) -> int:
    """A TCP counter of a host so far (its namespace's /proc/net/snmp), e.g. ActiveOpens."""
    lines = [line.split() for line in lan.run(host, ["cat", "/proc/net/snmp"]).stdout.splitlines()]
    names, values = (line for line in lines if line[0] == "Tcp:")
    return int(values[names.index(name)])


def tcp_passive_opens(lan: Lan, host: str) -> int:
    """Inbound TCP connections accepted so far in a host."""
    return tcp_counter(lan, host, "PassiveOpens")


# --- 1. real mDNS across hosts -------------------------------------------------------------


@pytest.mark.netns
@pytest.mark.slow
@requires_netns
def test_three_hosts_link_by_mdns_alone_and_a_note_reaches_all(tmp_path: Path) -> None:
    names = {"a": "Ada", "b": "Ben", "c": "Cleo"}
    with Lan(list(names)) as lan, room(lan, tmp_path, names) as nodes:
        wait_fully_linked(lan, nodes, 30, "all three to link by mDNS")

        # The real `peernode status --json`, run inside each host, says the same.
        with ThreadPoolExecutor(len(nodes)) as pool:
            answers = pool.map(PrefixedServe.cli_status, nodes.values())
            statuses = dict(zip(nodes, answers, strict=True))
        for host, status in statuses.items():
            assert status is not None, f"status --json failed in {host}"
            assert (status["port"], status["discovery"]) == (PORT, "on")
            others = {n.key: at(lan, h) for h, n in nodes.items() if h != host}
            assert linked_of(status) == others

        text = "the joins exercise: use LEFT JOIN"
        peernode(nodes["a"].home, "post", text, "--channel", "sql")
        for host in ("b", "c"):
            wait_for_text(nodes[host].home, text, 20, f"the note at {host}")


# --- 2. partition and heal -----------------------------------------------------------------


@pytest.mark.netns
@pytest.mark.slow
@requires_netns
def test_partition_then_heal_converges_to_the_union(tmp_path: Path) -> None:
    names = {"a": "Ada", "b": "Ben", "c": "Cleo"}
    with Lan(list(names)) as lan, room(lan, tmp_path, names, heartbeat=HEARTBEAT) as nodes:
        a, b, c = nodes.values()
        wait_fully_linked(lan, nodes, 30, "all three to link by mDNS")

        lan.cut("c")
        cut_at = time.monotonic()
        # a and b dial c again as soon as they notice the cut: watch those dials from now on.
        redials = [
            DialWatch(node.process.pid, PORT, lan.address("c"), [SYN_SENT]) for node in (a, b)
        ]
        for i in range(4):
            peernode(a.home, "post", f"a while c is away {i}")
            peernode(c.home, "post", f"c while cut off {i}")
        # The side that still has a network goes on working.
        wait_for(lambda: "a while c is away 3" in feed_texts(b.home), "a's notes at b", 20)

        # Nothing is sent to or from c now: the heartbeats notice.
        wait_for(
            lambda: not c.linked() and c.key not in a.linked() | b.linked(),
            f"the cut to be noticed ({links(nodes)})",
            1.5 * HEARTBEAT + 15,
        )
        noticed = time.monotonic() - cut_at
        # An outage, not a blip: the redials made on noticing it have failed (they give up
        # after the connect timeout) before the cable is back.
        for node, redial in zip((a, b), redials, strict=True):
            wait_for(redial.failed, f"a dial of {node.name}'s to c to fail", CONNECT_TIMEOUT + 10)
            redial.stop()
        lan.heal("c")
        healed_at = time.monotonic()

        union = set().union(*all_feed_ids(nodes).values())
        assert len(union) == 3 + 8  # three profiles and the eight notes
        deadline = healed_at + CONVERGE_WITHIN
        while True:
            feeds = all_feed_ids(nodes)
            if all(set(ids) == union for ids in feeds.values()):
                break
            if time.monotonic() > deadline:
                counts = {host: len(set(ids)) for host, ids in feeds.items()}
                raise AssertionError(
                    f"no convergence {CONVERGE_WITHIN:.0f} s after healing (cut noticed after"
                    f" {noticed:.1f} s, partition lasted {healed_at - cut_at:.1f} s): events"
                    f" held {counts} of {len(union)}; links {links(nodes)}"
                )
            time.sleep(0.5)
        converged = time.monotonic() - healed_at
        for host, ids in feeds.items():
            assert len(ids) == len(set(ids)), f"duplicates in {host}'s feed"
        wait_fully_linked(lan, nodes, 30, "all to re-link")
        print(
            f"cut noticed after {noticed:.1f} s, healed at {healed_at - cut_at:.1f} s,"
            f" converged {converged:.1f} s after healing"
        )


# --- 3. a spoofed mDNS announcement --------------------------------------------------------

SPOOF_SCRIPT = r"""
import socket, sys
from zeroconf import InterfaceChoice, IPVersion, ServiceInfo, Zeroconf
from peernode.net.discovery import PROTOCOL_VERSION, SERVICE_TYPE

key_hex, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
zc = Zeroconf(interfaces=InterfaceChoice.All, ip_version=IPVersion.V4Only)
info = ServiceInfo(
    SERVICE_TYPE,
    f"Ada-spoof.{SERVICE_TYPE}",
    port=port,
    properties={"v": PROTOCOL_VERSION, "k": key_hex, "n": "Ada"},
    server="mallory-spoof.local.",
    addresses=[socket.inet_aton(address)],
)
zc.register_service(info, allow_name_change=True)
print(info.name, flush=True)
try:
    sys.stdin.read()  # until the test closes our stdin
finally:
    zc.unregister_service(info)
    zc.close()
"""


def check_no_spoofed_link(
    lan: Lan, nodes: dict[str, PrefixedServe], since: float, ada: str, mallory: str
) -> None:
    """No sample since `since` shows Ada at mallory's address, or mallory linked at all."""
    for host, node in nodes.items():
        for status in node.samples_since(since):
            linked = linked_of(status)
            assert mallory not in linked, f"{host} linked mallory's key: {linked}"
            if ada in linked:
                assert linked[ada] == at(lan, "a"), f"{host} has Ada at {linked[ada]}"


@pytest.mark.netns
@pytest.mark.slow
@requires_netns
def test_a_spoofed_announcement_of_adas_key_links_nobody(tmp_path: Path) -> None:
    """Mallory announces Ada's key (TXT `k`) at her own address, where her own node listens.

    A dial made on that hint expects Ada's key, so the handshake (which proves mallory's)
    fails: nobody ever links mallory, nor "Ada" at mallory's address, and the real Ada stays
    linked under her own address. /proc/net/snmp in mallory's host shows the dials happened.
    """
    hosts = {"a": "Ada", "b": "Ben", "c": "Cleo", "mallory": "Mallory"}
    with Lan(list(hosts)) as lan:
        init_homes({tmp_path / host: name for host, name in hosts.items()})
        with ThreadPoolExecutor(2) as pool:  # `peernode id --json`
            ada, mallory_key = pool.map(public_key, [tmp_path / "a", tmp_path / "mallory"])
        nodes: dict[str, PrefixedServe] = {}
        mallory: PrefixedServe | None = None
        try:
            # Mallory: her own node (no mDNS, no watcher: only dials reach it) ...
            mallory = start(lan, tmp_path, "mallory", "Mallory", mdns=False, watch_every=None)
            # ... and a record saying that Ada (her key) listens at mallory's address and port.
            spoof = lan.popen(
                "mallory",
                [sys.executable, "-c", SPOOF_SCRIPT, ada, lan.address("mallory"), str(PORT)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=REPO,
                env=cli_env(),
            )
            assert spoof.stdout is not None
            ready, _, _ = select.select([spoof.stdout], [], [], 20)
            assert ready, "the spoof did not register within 20 s"
            assert spoof.stdout.readline().strip(), "the spoof did not register"
            wait_for((tmp_path / "mallory" / "node.json").exists, "mallory's node to listen", 30)
            opens_before = tcp_passive_opens(lan, "mallory")

            # Phase 1: Ben and Cleo start while the spoof is the only "Ada" on the LAN. They
            # dial mallory expecting Ada's key; the handshake proves another key and fails.
            phase1 = time.monotonic()
            for host in ("b", "c"):
                nodes[host] = start(lan, tmp_path, host, hosts[host])
            for node in nodes.values():
                node.wait_started()
            wait_for(
                lambda: tcp_passive_opens(lan, "mallory") >= opens_before + 2,
                "Ben and Cleo to dial the spoofed address",
                20,
            )
            wait_for(lambda: nodes["c"].key in nodes["b"].linked(), "Ben and Cleo to link", 20)
            check_no_spoofed_link(lan, nodes, phase1, ada, mallory_key)

            # Phase 2: the real Ada arrives and links under her own address ...
            nodes["a"] = start(lan, tmp_path, "a", "Ada")
            nodes["a"].wait_started()
            wait_fully_linked(lan, nodes, 30, "Ada to link under her own address")
            # ... and stays linked there for 10 s while the spoof keeps being served.
            window = time.monotonic()
            while time.monotonic() < window + 10:
                assert spoof.poll() is None, "the spoofing script died"
                mallory.check_running()
                check_no_spoofed_link(lan, nodes, phase1, ada, mallory_key)
                time.sleep(0.5)
            check_no_spoofed_link(lan, nodes, phase1, ada, mallory_key)
            for host in ("b", "c"):
                samples = [s for s in nodes[host].samples_since(window) if s is not None]
                assert len(samples) >= 10, f"too few status samples from {host}"
                assert all(linked_of(s).get(ada) == at(lan, "a") for s in samples), host
        finally:
            stop_all([*nodes.values(), *([mallory] if mallory else [])])


# --- 4. hostile connections on loopback ----------------------------------------------------

CLOSED_TYPES = (
    aiohttp.WSMsgType.CLOSE,
    aiohttp.WSMsgType.CLOSING,
    aiohttp.WSMsgType.CLOSED,
    aiohttp.WSMsgType.ERROR,
)
OTHER_APP = b"other-app"


def message3_size() -> int:
    """The size of the last handshake message, from a pair of channels of another app."""
    initiator = SecureChannel(Role.INITIATOR, SigningKey.generate(), OTHER_APP, now=0.0)
    responder = SecureChannel(Role.RESPONDER, SigningKey.generate(), OTHER_APP, now=0.0)
    (m2,) = [
        e.data for e in responder.receive(initiator.start()) if isinstance(e, HandshakeMessage)
    ]
    (m3,) = [e.data for e in initiator.receive(m2) if isinstance(e, HandshakeMessage)]
    return len(m3)


async def until_closed(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Read until the node closes the WebSocket (bounded well past the handshake timeout)."""
    async with asyncio.timeout(HANDSHAKE_TIMEOUT + 8):
        while (await ws.receive()).type not in CLOSED_TYPES:
            pass


async def raw_garbage(port: int) -> None:
    """(a) Bytes that are not HTTP at all, straight onto the TCP port."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"\x00\xff\x13 this is no HTTP\r\n\r\n" + bytes(range(256)))
        await writer.drain()
        async with asyncio.timeout(HANDSHAKE_TIMEOUT + 8):
            while await reader.read(4096):
                pass  # an HTTP error response may come first; then the end of the stream
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def ws_garbage(session: aiohttp.ClientSession, url: str) -> None:
    """(b) A binary WebSocket frame that is no handshake message."""
    async with session.ws_connect(url) as ws:
        await ws.send_bytes(b"\x07 not a Noise message, wrong size too")
        await until_closed(ws)


async def ws_stall(session: aiohttp.ClientSession, url: str) -> None:
    """(c) Upgrade to a WebSocket, then say nothing."""
    async with session.ws_connect(url) as ws:
        await until_closed(ws)


async def ws_stall_mid_handshake(session: aiohttp.ClientSession, url: str) -> None:
    """(c') Send a valid first message, read the answer, never send the third."""
    channel = SecureChannel(Role.INITIATOR, SigningKey.generate(), b"peernode-lan", now=0.0)
    async with session.ws_connect(url) as ws:
        await ws.send_bytes(channel.start())
        assert (await ws.receive(HANDSHAKE_TIMEOUT)).type is aiohttp.WSMsgType.BINARY
        await until_closed(ws)


async def ws_other_app(session: aiohttp.ClientSession, url: str) -> None:
    """(d) The Noise handshake of an app with another network id.

    Such a peer cannot finish: the network id is in the prologue, so message 2 already fails
    to decrypt on its side. It then sends a message 3 of the right size, which the node must
    reject rather than wait for its handshake timeout.
    """
    channel = SecureChannel(Role.INITIATOR, SigningKey.generate(), OTHER_APP, now=0.0)
    async with session.ws_connect(url) as ws:
        await ws.send_bytes(channel.start())
        answer = await ws.receive(HANDSHAKE_TIMEOUT)
        assert answer.type is aiohttp.WSMsgType.BINARY
        with pytest.raises(ProtocolError):
            channel.receive(answer.data)
        await ws.send_bytes(os.urandom(message3_size()))
        await until_closed(ws)


async def node_dials_other_app(home: Path) -> float:
    """(e) The other way round: the node dials a server of another app (`peernode connect`).

    Returns the seconds from our second message to the node closing (the CLI's own start-up
    is not the node's doing).
    """
    seen: list[tuple[str, float]] = []

    async def accept(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        channel = SecureChannel(Role.RESPONDER, SigningKey.generate(), OTHER_APP, now=0.0)
        try:
            first = await ws.receive(HANDSHAKE_TIMEOUT)
            for event in channel.receive(first.data):
                if isinstance(event, HandshakeMessage):
                    await ws.send_bytes(event.data)
            sent = time.monotonic()
            answer = await ws.receive(HANDSHAKE_TIMEOUT + 5)
            seen.append((answer.type.name, time.monotonic() - sent))
        finally:
            await ws.close()
        return ws

    app = web.Application()
    app.router.add_get(PATH, accept)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "peernode", "--home", str(home), "connect", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=HANDSHAKE_TIMEOUT + 20,
            check=False,
        )
    finally:
        await runner.cleanup()
    assert result.returncode != 0, f"connect to another app succeeded: {result.stdout}"
    assert seen, "the node never dialed"
    assert seen[0][0] != "BINARY", f"the node sent a third message: {seen}"
    print(f"node dials other app: {result.stderr.strip()}")
    return seen[0][1]


async def attack(port: int, home: Path) -> dict[str, float]:
    """Run every hostile connection at once; how long each took until the node closed it."""
    url = f"http://127.0.0.1:{port}{PATH}"
    took: dict[str, float] = {}

    async def timed(name: str, work: Any) -> None:
        start = time.monotonic()
        await work
        took[name] = time.monotonic() - start

    async def reported(name: str, work: Any) -> None:
        took[name] = await work

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(
            timed("stall", ws_stall(session, url)),
            timed("stall mid-handshake", ws_stall_mid_handshake(session, url)),
            timed("raw garbage", raw_garbage(port)),
            timed("ws garbage", ws_garbage(session, url)),
            timed("other app", ws_other_app(session, url)),
            reported("node dials other app", node_dials_other_app(home)),
        )
    return took


@pytest.mark.slow
def test_hostile_connections_are_closed_and_the_link_stays_up(tmp_path: Path) -> None:
    """(a)-(e) at once against Ben's port while Ada and Ben are linked and posting."""
    init_homes({tmp_path / "a": "Ada", tmp_path / "b": "Ben"})
    a_port, b_port = free_port(), free_port()
    a = PrefixedServe(tmp_path / "a", name="Ada", port=a_port, mdns=False)
    b: PrefixedServe | None = None
    try:
        b = PrefixedServe(
            tmp_path / "b", name="Ben", port=b_port, mdns=False, peers=[f"127.0.0.1:{a_port}"]
        )
        node_b = b
        a.wait_started()
        b.wait_started()
        wait_for(lambda: a.key in node_b.linked() and node_b.key in a.linked(), "the link", 20)

        attacked = time.monotonic()
        outcome: dict[str, Any] = {}

        def run_attacks() -> None:
            try:
                outcome["took"] = asyncio.run(attack(b_port, node_b.home))
            except BaseException as exc:  # reported by the main thread
                outcome["error"] = exc

        attacker = threading.Thread(target=run_attacks, name="attacks", daemon=True)
        attacker.start()
        # While the attacks run, notes still flow both ways.
        peernode(a.home, "post", "during the attacks, from Ada")
        peernode(b.home, "post", "during the attacks, from Ben")
        wait_for(lambda: "during the attacks, from Ada" in feed_texts(node_b.home), "Ada's", 15)
        wait_for(lambda: "during the attacks, from Ben" in feed_texts(a.home), "Ben's", 15)
        attacker.join(HANDSHAKE_TIMEOUT + 30)
        assert not attacker.is_alive(), "the attacks did not finish"
        if "error" in outcome:
            raise outcome["error"]
        took: dict[str, float] = outcome["took"]
        print("closed after:", {name: round(seconds, 2) for name, seconds in took.items()})

        # Refused at once, not left to time out ...
        for name in ("raw garbage", "ws garbage", "other app", "node dials other app"):
            assert took[name] < HANDSHAKE_TIMEOUT / 2, (name, took)
        # ... and the silent ones cut at the handshake timeout.
        for name in ("stall", "stall mid-handshake"):
            assert HANDSHAKE_TIMEOUT - 1 <= took[name] <= HANDSHAKE_TIMEOUT + 5, (name, took)

        peernode(a.home, "post", "after the attacks")
        wait_for(lambda: "after the attacks" in feed_texts(node_b.home), "the last note", 15)
        # The link never went down: linked in every status sampled since the attacks began.
        for node, other in ((a, b), (b, a)):
            samples = [s for s in node.samples_since(attacked) if s is not None]
            assert len(samples) >= 10, f"too few status samples from {node.name}"
            assert all(other.key in linked_of(s) for s in samples), f"{node.name} lost the link"
    finally:
        stop_all([a, *([b] if b else [])])


@pytest.mark.slow
def test_a_connection_that_never_sends_a_request_is_closed(tmp_path: Path) -> None:
    node = PrefixedServe(tmp_path / "a", name="Ada", mdns=False, watch_every=None)
    try:
        wait_for((tmp_path / "a" / "node.json").exists, "the node to listen", 30)
        port = json.loads((tmp_path / "a" / "node.json").read_text())["port"]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            start = time.monotonic()
            sock.settimeout(HANDSHAKE_TIMEOUT + 3)
            try:
                closed = sock.recv(1) == b""
            except TimeoutError:
                closed = False
            assert closed, (
                f"an idle connection is still open after {time.monotonic() - start:.1f} s"
            )
    finally:
        stop_all([node])


@pytest.mark.slow
def test_a_linked_node_exits_promptly_on_sigterm(tmp_path: Path) -> None:
    init_homes({tmp_path / "a": "Ada", tmp_path / "b": "Ben"})
    a_port = free_port()
    a = PrefixedServe(tmp_path / "a", name="Ada", port=a_port, mdns=False)
    b = PrefixedServe(tmp_path / "b", name="Ben", mdns=False, peers=[f"127.0.0.1:{a_port}"])
    try:
        a.wait_started()
        b.wait_started()
        wait_for(lambda: a.key in b.linked() and b.key in a.linked(), "the link", 20)
        assert a.watcher is not None
        a.watcher.stop()
        a.process.send_signal(signal.SIGTERM)
        try:
            a.process.wait(8)
        except subprocess.TimeoutExpired:
            raise AssertionError("a linked node is still running 8 s after SIGTERM") from None
        assert a.process.returncode == 0
        assert "stopped" in a.read_log()
    finally:
        stop_all([a, b])
