"""Files benchmark: one source to one receiver on loopback, verified and flushed to disk.

Run: .venv/bin/python bench/files.py [--mib N]
The source is a `peernode serve` process; the receiver a node in this process. Prints
the transfer's MB/s and its ratio to two baselines measured in the same run on the
same data: SHA-256 on one core (every byte is hashed by the receiver) and a raw copy
over a loopback TCP socket between two threads. Figures only, no pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
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


async def transfer(source_home: Path, port: int, receiver_home: Path, file_id: str) -> float:
    """Seconds from asking to every chunk verified, written and flushed."""
    network = NetworkConfig(port=0, host="127.0.0.1", mdns=False, peers=(("127.0.0.1", port),))
    config = NodeConfig(network=network, watch=False, files=FilesConfig())
    async with Node(Home(receiver_home), config) as node:
        await node.create_identity("Receiver")
        await node.start_network()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            files = await node.files.list(CIRCLE)
            linked = node._network.linked_addresses() if node._network else []
            if files and linked:
                break
            await asyncio.sleep(0.1)
        started = time.perf_counter()
        shared = await node.files.get(file_id)
        elapsed = time.perf_counter() - started
        assert shared.complete, "the file did not arrive whole"
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256, help="size of the file (MiB)")
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
        port_probe = socket.create_server(("127.0.0.1", 0))
        port = port_probe.getsockname()[1]
        port_probe.close()
        argv = [sys.executable, "-m", "peernode", "--home", str(source), "serve"]
        serve = subprocess.Popen(
            [*argv, "--port", str(port), "--no-mdns"], stderr=subprocess.DEVNULL
        )
        try:
            time.sleep(1.5)
            seconds = asyncio.run(transfer(source, port, root / "receiver", file_id))
        finally:
            serve.terminate()
            serve.wait(10)
        hashing = sha256_rate(data)
        loopback = loopback_rate(size)
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


if __name__ == "__main__":
    main()
