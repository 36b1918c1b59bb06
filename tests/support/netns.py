"""A throw-away Ethernet LAN made of Linux network namespaces, for tests that need real multicast.

    with Lan(["alice", "bob", "carol"]) as lan:
        proc = lan.popen("alice", [sys.executable, "-c", "..."], stdout=subprocess.PIPE)
        lan.cut("carol")     # carol's cable is pulled (her link loses carrier)
        lan.heal("carol")    # and plugged back in

Layout: one "switch" namespace holds a bridge `br0`; every host gets its own namespace whose
`eth0` is a veth pair with the other end (`p<i>`) enslaved to the bridge. Host i has address
10.77.<subnet>.<i+1>/24, `lo` up and a 224.0.0.0/4 route on `eth0`. Nothing is created in
the root namespace, so the machine running the tests is untouched and concurrent LANs
(other test processes, xdist workers) cannot collide: every name is namespace-local except
the namespace names themselves, which are `pn<pid>-<n>-<role>`.

The test process stays in the root namespace; commands run inside a host via
`ip netns exec` (which also mounts that namespace's /sys, so /sys/class/net is right).
Tear-down kills the processes started through the Lan and deletes every namespace, also on
test failure; namespaces left behind by a crashed earlier run (owner pid gone) are removed
before a new Lan is built.

Needs root and iproute2. Mark tests with `requires_netns` (plus `pytest.mark.netns`) so they
are skipped with a clear reason where namespaces are unavailable (no root, unprivileged
container, no `ip`).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Final, Self

import pytest

__all__ = ["Lan", "netns_unavailable_reason", "requires_netns", "stop_process"]

SUBNET_PREFIX: Final = "10.77"
"""Host addresses are 10.77.<subnet>.<i+1>/24; they only exist inside the namespaces."""

HOST_INTERFACE: Final = "eth0"
_NAME_RE: Final = re.compile(r"[a-z0-9]{1,10}")
_OURS_RE: Final = re.compile(r"pn(\d+)-")
_counter = itertools.count()
_COMMAND_TIMEOUT: Final = 20.0


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["ip", *args], capture_output=True, text=True, timeout=_COMMAND_TIMEOUT, check=False
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def _list_netns() -> list[str]:
    out = _ip("netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _delete_netns(name: str) -> None:
    """Kill whatever still runs in a namespace, then delete it (errors ignored)."""
    for pid in _ip("netns", "pids", name, check=False).stdout.split():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    _ip("netns", "delete", name, check=False)


def clean_stale(prefix: str | None = None) -> list[str]:
    """Delete namespaces of crashed runs: `pn<pid>-...` whose pid is gone, and `prefix...`."""
    removed = []
    for name in _list_netns():
        match = _OURS_RE.match(name)
        if match is None:
            continue
        if (prefix is not None and name.startswith(prefix)) or not _pid_alive(int(match[1])):
            _delete_netns(name)
            removed.append(name)
    return removed


@functools.cache
def netns_unavailable_reason() -> str | None:
    """Why network-namespace tests cannot run here, or None when they can."""
    if not sys.platform.startswith("linux"):
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "network namespaces need root (run the netns tests as root)"
    if shutil.which("ip") is None:
        return "`ip` (iproute2) is not installed"
    probe = f"pn{os.getpid()}-probe"
    try:
        _ip("netns", "add", probe)
        try:
            _ip("-n", probe, "link", "add", "br0", "type", "bridge")
            _ip("-n", probe, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
        finally:
            _delete_netns(probe)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot build network namespaces here: {exc}"
    return None


requires_netns = pytest.mark.skipif(
    netns_unavailable_reason() is not None, reason=netns_unavailable_reason() or ""
)


class Lan:
    """Hosts (network namespaces) on one bridged Ethernet segment. Use as a context manager."""

    def __init__(self, hosts: int | Sequence[str] = 2, *, subnet: int = 0) -> None:
        names = [f"h{i}" for i in range(hosts)] if isinstance(hosts, int) else list(hosts)
        if not names or len(names) > 250:
            raise ValueError("a Lan has 1 to 250 hosts")
        if len(set(names)) != len(names) or not all(_NAME_RE.fullmatch(n) for n in names):
            raise ValueError("host names must be unique, lowercase [a-z0-9]{1,10}")
        if not 0 <= subnet <= 255:
            raise ValueError("subnet is the third octet, 0..255")
        self.hosts: tuple[str, ...] = tuple(names)
        self.prefix = f"pn{os.getpid()}-{next(_counter)}-"
        self.switch = f"{self.prefix}sw"
        self._index = {host: i for i, host in enumerate(names)}
        self._subnet = subnet
        self._procs: list[subprocess.Popen[Any]] = []
        self._created: list[str] = []

    # --- naming ------------------------------------------------------------------------------

    def netns(self, host: str) -> str:
        """The namespace name of a host (for `ip netns exec` / `ip -n`)."""
        return f"{self.prefix}{self._check(host)}"

    def address(self, host: str) -> str:
        """The host's IPv4 address on the LAN."""
        return f"{SUBNET_PREFIX}.{self._subnet}.{self._index[self._check(host)] + 1}"

    def port(self, host: str) -> str:
        """The bridge-side veth of a host, inside the switch namespace."""
        return f"p{self._index[self._check(host)]}"

    def _check(self, host: str) -> str:
        if host not in self._index:
            raise KeyError(f"no host {host!r} on this Lan (hosts: {', '.join(self.hosts)})")
        return host

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.up()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.down()

    def up(self) -> None:
        """Build the LAN; on any failure everything created so far is removed again."""
        clean_stale(self.prefix)
        try:
            self._build()
        except BaseException:
            self.down()
            raise

    def _build(self) -> None:
        sw = self.switch
        self._add_netns(sw)
        _ip("-n", sw, "link", "add", "br0", "type", "bridge")
        # No IGMP snooping (nobody queries, mDNS must be flooded) and no STP delays.
        _ip("-n", sw, "link", "set", "br0", "type", "bridge", "mcast_snooping", "0")
        _ip("-n", sw, "link", "set", "br0", "type", "bridge", "stp_state", "0")
        _ip("-n", sw, "link", "set", "br0", "up")
        for host in self.hosts:
            ns, port = self.netns(host), self.port(host)
            self._add_netns(ns)
            _ip(
                "-n",
                sw,
                "link",
                "add",
                port,
                "type",
                "veth",
                "peer",
                "name",
                HOST_INTERFACE,
                "netns",
                ns,
            )
            _ip("-n", sw, "link", "set", port, "master", "br0")
            _ip("-n", sw, "link", "set", port, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", f"{self.address(host)}/24", "dev", HOST_INTERFACE)
            _ip("-n", ns, "link", "set", HOST_INTERFACE, "up")
            _ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", HOST_INTERFACE)

    def _add_netns(self, name: str) -> None:
        _ip("netns", "add", name)
        self._created.append(name)

    def down(self) -> None:
        """Stop the processes started here and delete every namespace. Safe to repeat."""
        procs, self._procs = self._procs, []
        for proc in procs:
            stop_process(proc)
        created, self._created = self._created, []
        for name in reversed(created):
            _delete_netns(name)

    # --- partitions --------------------------------------------------------------------------

    def cut(self, host: str) -> None:
        """Unplug a host: its switch port goes down, so its eth0 loses carrier."""
        _ip("-n", self.switch, "link", "set", self.port(host), "down")

    def heal(self, host: str) -> None:
        """Plug a host back in."""
        _ip("-n", self.switch, "link", "set", self.port(host), "up")

    def limit_rate(self, host: str, mbit: int) -> None:
        """Shape a host's cable to `mbit` each way (tc tbf): its eth0 sends that fast at
        most, and its switch port delivers to it that fast at most."""
        tbf = ["tbf", "rate", f"{mbit}mbit", "burst", "256kb", "latency", "50ms"]
        for ns, device in ((self.netns(host), HOST_INTERFACE), (self.switch, self.port(host))):
            subprocess.run(
                ["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", device, "root", *tbf],
                check=True,
                capture_output=True,
                timeout=_COMMAND_TIMEOUT,
            )

    def sent_bytes(self, host: str) -> int:
        """Bytes the host has sent on its eth0 so far (frames, headers included)."""
        out = _ip("-n", self.netns(host), "-s", "-j", "link", "show", HOST_INTERFACE).stdout
        return int(json.loads(out)[0]["stats64"]["tx"]["bytes"])

    # --- running things inside a host --------------------------------------------------------

    def command(self, host: str, argv: Sequence[str]) -> list[str]:
        """`argv` wrapped to run inside the host's namespace."""
        return ["ip", "netns", "exec", self.netns(host), *argv]

    def popen(self, host: str, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """Start `argv` inside a host; it is terminated (then killed) on tear-down."""
        proc: subprocess.Popen[Any] = subprocess.Popen(self.command(host, argv), **kwargs)
        self._procs.append(proc)
        return proc

    def run(
        self,
        host: str,
        argv: Sequence[str],
        *,
        check: bool = True,
        timeout: float = _COMMAND_TIMEOUT,
        **kwargs: Any,
    ) -> subprocess.CompletedProcess[str]:
        """Run `argv` inside a host to completion; output captured as text by default."""
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        return subprocess.run(self.command(host, argv), check=check, timeout=timeout, **kwargs)


def stop_process(proc: subprocess.Popen[Any], grace: float = 3.0) -> None:
    """SIGTERM, SIGKILL after `grace` s if it still runs; its pipes closed."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
