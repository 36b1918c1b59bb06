"""Files benchmark: one source to one receiver on loopback, verified and flushed to disk.

Run: .venv/bin/python bench/files.py [--mib N]
The source is a `peernode serve` process; the receiver a node in this process. Prints
the transfer's MB/s and its ratio to two baselines measured in the same run on the
same data: SHA-256 on one core (every byte is hashed by the receiver) and a raw copy
over a loopback TCP socket between two threads. Then the delay of notes from one node
to another, p50 and p95, with no transfer and all through one (both nodes in this process,
the worst case: one event loop). Figures only, no pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from peernode.files import FilesConfig
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig

CIRCLE = "bench"
BLOCK = 1024 * 1024


def sha256_rate(path: Path) -> float:
    """Bytes per second SHA-256 reaches on one core over the file (read from the cache)."""
    digest = hashlib.sha256()
    started = time.perf_counter()
    with open(path, "rb") as reader:
        while block := reader.read(BLOCK):
            digest.update(block)
    return path.stat().st_size / (time.perf_counter() - started)


def loopback_rate(size: int) -> float:
    """Bytes per second of a plain TCP copy over loopback, sender and receiver threads."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    payload = os.urandom(BLOCK)

    def send() -> None:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            for _ in range(size // BLOCK):
                sock.sendall(payload)

    sender = threading.Thread(target=send)
    started = time.perf_counter()
    sender.start()
    connection, _ = server.accept()
    received = 0
    buffer = bytearray(BLOCK)
    with connection:
        while count := connection.recv_into(buffer):
            received += count
    sender.join()
    server.close()
    return received / (time.perf_counter() - started)


def peernode(home: Path, *args: str) -> str:
    argv = [sys.executable, "-m", "peernode", "--home", str(home), *args]
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) process `pid` used so far (Linux; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def transfer(
    source_home: Path, port: int, receiver_home: Path, file_ids: list[str], source_pid: int = 0
) -> list[float]:
    """Seconds from asking to every chunk verified, written and flushed, for each file;
    the first one's CPU seconds (receiver, source) are printed: on a loaded machine they
    say more than the wall clock."""
    network = NetworkConfig(port=0, host="127.0.0.1", mdns=False, peers=(("127.0.0.1", port),))
    config = NodeConfig(network=network, watch=False, files=FilesConfig(auto_fetch_bytes=0))
    async with Node(Home(receiver_home), config) as node:
        await node.create_identity("Receiver")
        await node.start_network()
        for _ in range(300):
            files = await node.files.list(CIRCLE)
            linked = node._network.linked_addresses() if node._network else []
            if len(files) == len(file_ids) and linked:
                break
            await asyncio.sleep(0.1)
        seconds = []
        for number, file_id in enumerate(file_ids):
            started, cpu = time.perf_counter(), time.process_time()
            source_cpu = process_cpu(source_pid) if source_pid else 0.0
            shared = await node.files.get(file_id)
            seconds.append(time.perf_counter() - started)
            assert shared.complete, "the file did not arrive whole"
            if number == 0:
                used = time.process_time() - cpu
                sent = process_cpu(source_pid) - source_cpu if source_pid else 0.0
                print(f"CPU seconds of the transfer: receiver {used:.2f}, source {sent:.2f}")
        return seconds


def small_files(root: Path, count: int) -> int:
    """`count` files of 4 to 64 KiB in a folder; returns their total size."""
    sizes = [random.Random(i).randint(4 * 1024, 64 * 1024) for i in range(count)]
    for number, size in enumerate(sizes):
        folder = root / f"week{number % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"exercise{number}.txt").write_bytes(os.urandom(size))
    return sum(sizes)


def local_copy_rate(root: Path, target: Path) -> float:
    """Files per second of a plain copy of the folder on this disk (with an fsync each)."""
    paths = [path for path in root.rglob("*") if path.is_file()]
    started = time.perf_counter()
    for number, path in enumerate(paths):
        copy = target / f"{number}.txt"
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
        with open(copy, "rb+") as handle:
            os.fdatasync(handle.fileno())
    return len(paths) / (time.perf_counter() - started)


NOTES = 40
NOTE_EVERY = 0.05


async def note_delays(root: Path, path: Path, *, during_transfer: bool) -> list[float]:
    """Seconds from a post at one node to its arrival at the other, for each note."""
    network = NetworkConfig(port=0, host="127.0.0.1", mdns=False)
    config = NodeConfig(network=network, watch=False)
    tag = "during" if during_transfer else "quiet"
    async with Node(Home(root / f"a-{tag}"), config) as ada:
        await ada.create_identity("Ada")
        await ada.start_network()
        assert ada._network is not None
        assert ada._network.port is not None
        peers = (("127.0.0.1", ada._network.port),)
        config_b = NodeConfig(
            network=NetworkConfig(port=0, host="127.0.0.1", mdns=False, peers=peers), watch=False
        )
        async with Node(Home(root / f"b-{tag}"), config_b) as ben:
            await ben.create_identity("Ben")
            await ben.start_network()
            shared = await ada.files.share(path, CIRCLE)
            await settle(ben)
            fetch = asyncio.create_task(ben.files.get(shared.id)) if during_transfer else None
            arrived: dict[bytes, float] = {}
            arrival = asyncio.Event()
            subscription = ben.subscribe()

            async def watch() -> None:
                async for event in subscription:
                    if event.kind == "peernode/note@1":
                        arrived.setdefault(event.id, time.perf_counter())
                        arrival.set()

            watcher = asyncio.create_task(watch())
            sent: dict[bytes, float] = {}
            # NOTES notes at least; during a transfer, until it ends.
            while len(sent) < NOTES or (fetch is not None and not fetch.done()):
                note = await ada.post(f"note {len(sent)}", channel=CIRCLE)
                sent[note.id] = time.perf_counter()
                await asyncio.sleep(NOTE_EVERY)
            deadline = time.monotonic() + 30
            while set(sent) - set(arrived) and time.monotonic() < deadline:
                arrival.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(arrival.wait(), 1.0)
            if fetch is not None:
                await fetch
            watcher.cancel()
            ben.unsubscribe(subscription)
    return sorted(arrived[key] - sent[key] for key in sent if key in arrived)


async def settle(node: Node) -> None:
    """Until the node holds the shared file's event and is linked (30 s at most)."""
    for _ in range(600):
        linked = node._network.linked_addresses() if node._network else []
        if linked and await node.files.list(CIRCLE):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the nodes did not link")


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256, help="size of the file (MiB)")
    parser.add_argument("--small", type=int, default=1000, help="small files in a folder")
    args = parser.parse_args()
    size = args.mib * 1024 * 1024
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        data = root / "lecture.bin"
        with open(data, "wb") as writer:
            for _ in range(args.mib):
                writer.write(os.urandom(BLOCK))
        source = root / "source"
        peernode(source, "init", "--name", "Source")
        shared = peernode(source, "file", "share", str(data), "--circle", CIRCLE, "--json")
        file_id = shared.split('"id":"')[1].split('"')[0]
        small_size = small_files(root / "exercises", args.small)
        shared = peernode(
            source, "file", "share", str(root / "exercises"), "--circle", CIRCLE, "--json"
        )
        folder_id = shared.split('"id":"')[1].split('"')[0]
        port_probe = socket.create_server(("127.0.0.1", 0))
        port = port_probe.getsockname()[1]
        port_probe.close()
        argv = [sys.executable, "-m", "peernode", "--home", str(source), "serve"]
        serve = subprocess.Popen(
            [*argv, "--port", str(port), "--no-mdns"], stderr=subprocess.DEVNULL
        )
        try:
            time.sleep(1.5)
            seconds, folder_seconds = asyncio.run(
                transfer(source, port, root / "receiver", [file_id, folder_id], serve.pid)
            )
        finally:
            serve.terminate()
            serve.wait(10)
        copying = local_copy_rate(root / "exercises", root / "copied")
        hashing = sha256_rate(data)
        loopback = loopback_rate(size)
        quiet = asyncio.run(note_delays(root, data, during_transfer=False))
        busy = asyncio.run(note_delays(root, data, during_transfer=True))
    rate = size / seconds
    print(f"file: {args.mib} MiB, chunks of {FilesConfig().rules.chunk_size_for(size) >> 10} KiB")
    print(f"{'path':44} {'MB/s':>8} {'ratio':>7}")
    rows = [
        ("SHA-256, one core (baseline)", hashing),
        ("raw TCP copy over loopback, 2 threads", loopback),
        ("peernode file get: verified, flushed, renamed", rate),
    ]
    for label, value in rows:
        print(f"{label:44} {value / 1e6:8.0f} {value / hashing:7.2f}")
    print(f"peernode file get / raw loopback copy: {rate / loopback:.2f}")
    per_second = args.small / folder_seconds
    print(f"a folder of {args.small} files of 4-64 KiB ({small_size / 1e6:.0f} MB):")
    print(f"  {'local copy, fsync each (baseline)':42} {copying:8.0f} files/s  1.00")
    print(f"  {'peernode file get':42} {per_second:8.0f} files/s {per_second / copying:5.2f}")
    print(f"{'note delay (ms), a note every 50 ms':38} {'p50':>7} {'p95':>7}")
    for label, delays in (("no transfer", quiet), ("during a transfer", busy)):
        p50, p95 = percentile(delays, 0.5) * 1000, percentile(delays, 0.95) * 1000
        print(f"  {label:36} {p50:7.1f} {p95:7.1f}  ({len(delays)} notes)")


if __name__ == "__main__":
    main()
