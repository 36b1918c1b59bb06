"""The TCP sockets of a process, read from /proc (Linux): to watch its dials from outside."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import threading
from collections.abc import Collection
from pathlib import Path
from typing import Final, NamedTuple, Self

ESTABLISHED: Final = "01"
SYN_SENT: Final = "02"
"""States as /proc/net/tcp writes them."""


class Connection(NamedTuple):
    local_port: int
    remote_host: str  # dotted IPv4, or the hex of an IPv6 address
    remote_port: int
    state: str  # ESTABLISHED, SYN_SENT, ... (hex, as in /proc/net/tcp)


def tcp_sockets(pid: int) -> set[Connection]:
    """Every TCP socket `pid` holds, in any state, seen in its own network namespace."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                local, remote = (f.rsplit(":", 1) for f in fields[1:3])
                host = remote[0]
                if len(host) == 8:  # IPv4, in the kernel's byte order
                    host = socket.inet_ntoa(struct.pack("<I", int(host, 16)))
                found.add(Connection(int(local[1], 16), host, int(remote[1], 16), fields[3]))
    return found


def tcp_connections(pid: int) -> set[tuple[int, int]]:
    """(local port, remote port) of the established TCP connections `pid` holds."""
    return {(c.local_port, c.remote_port) for c in tcp_sockets(pid) if c.state == ESTABLISHED}


class DialWatch:
    """Watches, from a thread, the connections `pid` holds to `port` (on `host`) in one of
    `states`; `failed()` once one of them was let go of: a dial that failed, where the far
    end cannot answer (a process stopped with its connections waiting in its listen backlog,
    or a host cut off the network). Sampled every `every` s from the start, so that a dial
    made while the test is busy elsewhere counts too. A context manager; stop() ends it."""

    def __init__(
        self,
        pid: int,
        port: int,
        host: str | None = None,
        states: Collection[str] = (SYN_SENT, ESTABLISHED),
        every: float = 0.1,
    ) -> None:
        self.pid, self.port, self.host, self.states = pid, port, host, frozenset(states)
        self._seen: set[int] = set()
        self._failed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def failed(self) -> bool:
        return self._failed.is_set()

    def _held(self) -> set[int]:
        return {
            c.local_port
            for c in tcp_sockets(self.pid)
            if c.remote_port == self.port
            and self.host in (None, c.remote_host)
            and c.state in self.states
        }

    def _run(self, every: float) -> None:
        while not self._stop.is_set():
            try:
                held = self._held()
            except OSError:  # the process is gone
                return
            if self._seen - held:
                self._failed.set()
                return
            self._seen |= held
            self._stop.wait(every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
