"""A laptop that sleeps and wakes: a `peernode serve` stopped with SIGSTOP, then SIGCONT.

Real `peernode serve` processes on loopback. Ben (the sleeper) is stopped long enough for Ada's
heartbeat to drop the link; Ada (and Cleo, linked to Ada only) post meanwhile; then Ben is
continued and must link again, catch up to exactly Ada's events and get his own posts out.

What a real hour of sleep changes, and what these tests do about it:

- Backoff. The awake side fails every dial to the sleeper: its --peer backoff grows to
  reconnect_max (60 s) and its engine drops the address after the first failure. So after an
  hour the awake side may not dial for a minute or more, and re-linking at once is up to the
  sleeper, whose own timers saw no failure. Covered: "sleeper", where only the sleeper has a
  --peer and the awake node's engine has dropped its address by the time it wakes, and
  "awake", where only the awake node has a --peer; in both the pair must link again within
  RELINK_WITHIN, well under a backoff (the sleeper dials at once, whether or not it has a
  --peer: it knows the address from the link). Not covered: a backoff of the full 60 s
  (it takes two minutes of stopping to reach it).
- Clocks. Networking uses only loop.time() (monotonic) and events keep their wall-clock
  created_at. A real suspend freezes CLOCK_MONOTONIC on Linux; SIGSTOP does not, so here
  every timer of the sleeper that fell due while stopped fires at once on waking (a burst
  the node must survive), whereas after a real suspend they resume where they were.
- The connection. Here the sleeper's kernel stays awake and takes the peer's close, so the
  sleeper sees its link closed as soon as it runs. After a real sleep its socket is still
  ESTABLISHED toward a peer that forgot it long ago: the link is half-open and only the
  sleeper's own heartbeat (a ping, then heartbeat/2 for the pong) ends it. The half-open
  tests reproduce that with a relay standing for the network that, from the sleep on,
  passes nothing of the old connection, ever (the worst case: no RST comes back, as after
  an address change). Their sleeper pings at once on waking, where a real one pings up to
  one heartbeat (15 s) later, so a real wake may take that much longer than measured here.
- The heartbeat. The nodes run with `serve --heartbeat HEARTBEAT` (1.5 s, not the 15 s of
  production), so a drop takes seconds instead of half a minute; every window of these tests
  that waits on a heartbeat is reckoned from it.
- Dials into the sleeper pile up in its listen backlog (the kernel answers while the
  process is stopped) and are served, already abandoned, when it wakes: covered, and the
  sleeper must log no traceback for them. A sleeping machine answers no SYN at all.
- Not simulated: mDNS (off here; records expire during a long sleep, see
  test_netns_room.py for discovery after a partition), a new address on waking, and the
  wall clock jumping (both clocks move together under SIGSTOP).
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support.nodes import (
    PrefixedServe,
    cli_env,
    feed_ids,
    free_port,
    init_homes,
    linked_of,
    peernode,
    stop_all,
)
from tests.support.sockets import DialWatch, tcp_connections
from tests.support.waiting import wait_for

HEARTBEAT = 1.5  # serve --heartbeat: a silent peer is dropped within about 1.5 x this
CONNECT_TIMEOUT = 5.0  # LinkConfig.connect_timeout: how long a dial into the backlog hangs
DROP_WITHIN = 1.5 * HEARTBEAT + 5  # a quiet heartbeat, heartbeat/2 for the pong; slack for load
DIAL_FAILED_WITHIN = CONNECT_TIMEOUT + 10  # Ada dials the sleeper on dropping him
RELINK_WITHIN = HEARTBEAT + 10  # after waking, with the closed connection seen at once
HALF_OPEN_RELINK_WITHIN = 1.5 * HEARTBEAT + 10  # a ping, its pong timeout, a dial
CATCH_UP_WITHIN = 30.0
POSTED_WHILE_ASLEEP = 200  # notes imported on Ada while Ben sleeps


# --- helpers -------------------------------------------------------------------------------


def stopped(pid: int) -> bool:
    """Whether the process is stopped by a signal (state T in /proc/PID/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] == "T"


def who_dialled(a: PrefixedServe, a_port: int, b: PrefixedServe, b_port: int) -> str:
    """Which of the two holds an outbound connection to the other's port, for the record."""
    ways = []
    if any(remote == a_port for _, remote in tcp_connections(b.process.pid)):
        ways.append(f"{b.name} dialled {a.name}")
    if any(remote == b_port for _, remote in tcp_connections(a.process.pid)):
        ways.append(f"{a.name} dialled {b.name}")
    return " and ".join(ways) or "no connection seen"


def import_notes(home: Path, count: int, tag: str) -> None:
    lines = [f'{{"circle": "lobby", "text": "{tag} {i}"}}' for i in range(count)]
    source = home / f"{tag}.jsonl"
    source.write_text("\n".join(lines) + "\n")
    peernode(home, "import", str(source))


def events(node: PrefixedServe) -> int:
    status = node.status()
    return -1 if status is None else int(status["events"])


def exact_feeds(nodes: list[PrefixedServe]) -> list[list[str]]:
    with ThreadPoolExecutor(len(nodes)) as pool:
        return list(pool.map(lambda node: feed_ids(node.home), nodes))


def same_ids(*nodes: PrefixedServe) -> bool:
    feeds = exact_feeds(list(nodes))
    return all(set(ids) == set(feeds[0]) for ids in feeds)


def check_no_traceback(*nodes: PrefixedServe) -> None:
    for node in nodes:
        log = (node.home / "serve.log").read_text(errors="replace")
        assert "Traceback" not in log, f"{node.name} logged a traceback: {node.read_log()}"


def relinked(a: PrefixedServe, b: PrefixedServe) -> bool:
    return b.key in a.linked() and a.key in b.linked()


@contextlib.contextmanager
def nodes_started(
    tmp_path: Path, wiring: dict[str, list[str]]
) -> Iterator[dict[str, PrefixedServe]]:
    """Some of Ada, Ben and Cleo; wiring: name -> the names it has as --peer."""
    names = {"ada": "Ada", "ben": "Ben", "cleo": "Cleo"}
    init_homes({tmp_path / name: names[name] for name in wiring})
    ports = {name: free_port() for name in wiring}
    nodes: dict[str, PrefixedServe] = {}
    try:
        for name, dials in wiring.items():
            nodes[name] = PrefixedServe(
                tmp_path / name,
                name=names[name],
                port=ports[name],
                peers=[f"127.0.0.1:{ports[other]}" for other in dials],
                mdns=False,
                heartbeat=HEARTBEAT,
            )
        for node in nodes.values():
            node.wait_started()
        yield nodes
    finally:
        stop_stopped(list(nodes.values()))


def stop_stopped(nodes: list[PrefixedServe]) -> None:
    """stop_all, after continuing any node still stopped (SIGTERM waits for SIGCONT)."""
    for node in nodes:
        if node.process.poll() is None:
            node.process.send_signal(signal.SIGCONT)
    stop_all(nodes)


def port_of(node: PrefixedServe) -> int:
    status = node.status()
    assert status is not None
    return int(status["port"])


def sleep_and_post(
    ada: PrefixedServe, ben: PrefixedServe, others: list[PrefixedServe], ada_dials: int
) -> tuple[float, float]:
    """Stop Ben; post on Ada and the others; see Ada drop him, then fail a dial to him at
    the port `ada_dials`. Returns (stop, drop) times."""
    assert not stopped(ben.process.pid)
    ben.process.send_signal(signal.SIGSTOP)
    asleep_at = time.monotonic()
    import_notes(ada.home, POSTED_WHILE_ASLEEP, "while Ben sleeps, from Ada")
    for node in others:
        peernode(node.home, "post", f"while Ben sleeps, from {node.name}")
    wait_for(lambda: ben.key not in ada.linked(), "Ada's heartbeat to drop Ben", DROP_WITHIN)
    dropped = time.monotonic() - asleep_at
    assert stopped(ben.process.pid), "Ben woke up on his own"
    for node in others:
        assert ada.key in node.linked(), f"{node.name} lost Ada while Ben slept"
    # Dials to the sleeper fail meanwhile (they time out in its backlog): see one fail, so
    # that Ada's engine has given up his address (or her --peer backs off) before he wakes.
    with DialWatch(ada.process.pid, ada_dials) as dial:
        wait_for(dial.failed, "a dial of Ada's to Ben to fail", DIAL_FAILED_WITHIN)
    return asleep_at, dropped


def wake_and_check(
    ada: PrefixedServe,
    ben: PrefixedServe,
    others: list[PrefixedServe],
    relink_within: float,
) -> tuple[float, dict[str, float]]:
    """SIGCONT Ben; he links again, holds exactly Ada's events, and his new note gets out.
    Returns when he woke (time.monotonic()) and how long each step took after that."""
    ben.process.send_signal(signal.SIGCONT)
    woke = time.monotonic()
    wait_for(lambda: relinked(ada, ben), "Ben and Ada to link again", relink_within)
    linked = time.monotonic() - woke
    target = events(ada)
    wait_for(lambda: events(ben) >= target, "Ben to catch up (count)", CATCH_UP_WITHIN)
    counted = time.monotonic() - woke
    wait_for(lambda: same_ids(ada, ben, *others), "the same ids everywhere", CATCH_UP_WITHIN)
    everyone = [ada, ben, *others]
    feeds = exact_feeds(everyone)
    for node, ids in zip(everyone, feeds, strict=True):
        assert len(ids) == len(set(ids)), f"duplicates in {node.name}'s feed"
    assert len(feeds[1]) >= POSTED_WHILE_ASLEEP + len(everyone) + len(others)

    posted = time.monotonic()
    peernode(ben.home, "post", "awake again, from Ben")
    total = len(feeds[1]) + 1
    wait_for(lambda: all(events(n) == total for n in everyone), "Ben's new note everywhere", 20)
    out = time.monotonic() - posted
    assert same_ids(*everyone)
    return woke, {"relinked": linked, "caught up": counted, "Ben's note out": out}


# --- the sleeper wakes, its peer's close waiting in its socket -----------------------------


@pytest.mark.slow
@pytest.mark.parametrize("dialler", ["sleeper", "awake"])
def test_a_sleeping_node_links_again_and_catches_up(tmp_path: Path, dialler: str) -> None:
    """dialler "sleeper": Ben has --peer Ada; Ada's dial to him fails while he sleeps and her
    engine drops his address. "awake": Ada has --peer Ben (backing off while he sleeps) and
    Ben has none. Cleo is linked to Ada only and posts too."""
    wiring = {
        "ada": ["ben"] if dialler == "awake" else [],
        "ben": ["ada"] if dialler == "sleeper" else [],
        "cleo": ["ada"],
    }
    with nodes_started(tmp_path, wiring) as nodes:
        ada, ben, cleo = nodes["ada"], nodes["ben"], nodes["cleo"]
        wait_for(lambda: relinked(ada, ben) and relinked(ada, cleo), "the links", 20)
        wait_for(lambda: same_ids(ada, ben, cleo), "the profiles everywhere", 20)

        asleep_at, dropped = sleep_and_post(ada, ben, [cleo], ada_dials=port_of(ben))
        slept = time.monotonic() - asleep_at
        _, took = wake_and_check(ada, ben, [cleo], RELINK_WITHIN)
        way = who_dialled(ada, port_of(ada), ben, port_of(ben))
        check_no_traceback(ada, ben, cleo)
        shown = ", ".join(f"{k} {v:.1f} s" for k, v in took.items())
        print(
            f"dialler {dialler}: Ada dropped Ben {dropped:.1f} s into a {slept:.0f} s sleep;"
            f" after waking: {shown}; now {way}"
        )


# --- the sleeper wakes with a half-open link ------------------------------------------------

RELAY_SCRIPT = r"""
import asyncio, sys

class Connection:
    dead = False  # from the sleep on: nothing passes, no close is passed on

async def main(target):
    awake = asyncio.Event()
    awake.set()
    connections, asleep = [], []

    async def pump(source, sink, connection):
        try:
            while data := await source.read(65536):
                await awake.wait()
                if not connection.dead:
                    sink.write(data)
                    await sink.drain()
        except ConnectionError:
            pass
        if not connection.dead:
            sink.close()

    async def handle(reader, writer):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            writer.close()
            return
        connection = Connection()
        connections.append(connection)
        await asyncio.gather(
            pump(reader, up_writer, connection), pump(up_reader, writer, connection)
        )

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        if line.strip() == "sleep":
            awake.clear()
            asleep = list(connections)
        elif line.strip() == "wake":
            for connection in asleep:
                connection.dead = True
            awake.set()
        print("ok", flush=True)

asyncio.run(main(int(sys.argv[1])))
"""


class Relay:
    """The network between the sleeper and its peer: a TCP relay in its own process.

    sleep(): nothing passes any more (held, as by a machine that does not answer);
    wake(): new connections pass again, the ones from before the sleep never do.
    """

    def __init__(self, target_port: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", RELAY_SCRIPT, str(target_port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        self.port = int(self._line())

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the relay died"
        return line.strip()

    def _say(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        assert self._line() == "ok"

    def sleep(self) -> None:
        self._say("sleep")

    def wake(self) -> None:
        self._say("wake")

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


@pytest.mark.slow
@pytest.mark.parametrize("dialler", ["sleeper", "awake"])
def test_a_half_open_link_after_waking_ends_and_the_pair_links_again(
    tmp_path: Path, dialler: str
) -> None:
    """The link between Ada and Ben runs through a relay that loses it for good when Ben
    sleeps: on waking Ben still holds it (he says he is linked, Ada does not) until his own
    heartbeat gives up on it; then the pair links again through the relay and catches up.
    dialler "sleeper": Ben dialled Ada; "awake": Ada dialled Ben."""
    relay: Relay | None = None
    ports = {"ada": free_port(), "ben": free_port()}
    target, dials = ("ada", "ben") if dialler == "sleeper" else ("ben", "ada")
    relay = Relay(ports[target])
    try:
        init_homes({tmp_path / "ada": "Ada", tmp_path / "ben": "Ben"})
        nodes = {
            name: PrefixedServe(
                tmp_path / name,
                name=name.capitalize(),
                port=ports[name],
                peers=[f"127.0.0.1:{relay.port}"] if name == dials else [],
                mdns=False,
                heartbeat=HEARTBEAT,
            )
            for name in ("ada", "ben")
        }
        try:
            ada, ben = nodes["ada"], nodes["ben"]
            ada.wait_started()
            ben.wait_started()
            wait_for(lambda: relinked(ada, ben), "the link through the relay", 20)
            wait_for(lambda: same_ids(ada, ben), "the profiles on both", 20)

            relay.sleep()
            ada_dials = relay.port if dialler == "awake" else ports["ben"]
            _, dropped = sleep_and_post(ada, ben, [], ada_dials)
            relay.wake()
            woke, took = wake_and_check(ada, ben, [], HALF_OPEN_RELINK_WITHIN)
            check_half_open(ada, ben, woke)
            check_no_traceback(ada, ben)
            shown = ", ".join(f"{k} {v:.1f} s" for k, v in took.items())
            print(
                f"half-open, dialler {dialler}: Ada dropped Ben {dropped:.1f} s into the sleep;"
                f" after waking: {shown}"
            )
        finally:
            stop_stopped(list(nodes.values()))
    finally:
        relay.close()


def check_half_open(ada: PrefixedServe, ben: PrefixedServe, woke: float) -> None:
    """Ben's first status after waking lists Ada as linked while Ada lists no Ben: the
    relay made the link half-open, else this test would not test what it says."""
    assert ben.watcher is not None
    after = [(t, s) for t, s in ben.watcher.samples if t >= woke and s is not None]
    assert after, "no status from Ben after waking"
    _, first = after[0]
    assert ada.key in linked_of(first), "Ben did not wake up with the half-open link"
    # Ada's view as the relay woke: by Ben's first status she may have linked again already
    # (her redial replaces the half-open link), which is the behaviour under test.
    assert ben.key not in linked_of(ada_status_before(ada, woke)), "Ada was linked too"


def ada_status_before(ada: PrefixedServe, moment: float) -> dict[str, Any] | None:
    assert ada.watcher is not None
    return [s for t, s in ada.watcher.samples if t <= moment][-1]
