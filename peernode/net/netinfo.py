"""Which network interfaces and addresses this machine has, for discovery and `peernode doctor`.

Standard library only. On Linux the answer is exact: interface names from
`socket.if_nameindex()`, flags and link state from `/sys/class/net/<name>/`, IPv4 addresses
from the `SIOCGIFCONF` ioctl and IPv6 addresses from `/proc/net/if_inet6`. All of these
describe the network namespace of the calling process.

Elsewhere (macOS, BSD) or when that fails, the answer is a best effort: the addresses the
host name resolves to plus the source address the kernel would pick for mDNS multicast
(found by `connect()`ing a UDP socket, which sends no packet), reported as one synthetic
interface named ``"*"`` (and ``"loopback"`` for loopback addresses) whose flags are assumed.
"""

from __future__ import annotations

import array
import contextlib
import errno
import ipaddress
import logging
import socket
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "InterfaceInfo",
    "default_port_free",
    "list_interfaces",
    "multicast_source_address",
    "usable_addresses",
]

log = logging.getLogger(__name__)

_SYS_NET: Final = Path("/sys/class/net")
_PROC_IF_INET6: Final = Path("/proc/net/if_inet6")

# <linux/if.h>
_IFF_UP: Final = 0x1
_IFF_LOOPBACK: Final = 0x8
_IFF_MULTICAST: Final = 0x1000
_SIOCGIFCONF: Final = 0x8912
_IFNAMSIZ: Final = 16
# <linux/if_addr.h>: addresses that are not usable yet (or never will be)
_IFA_F_DADFAILED: Final = 0x08
_IFA_F_TENTATIVE: Final = 0x40
_IPV6_SCOPE_LINK: Final = 0x20

_MDNS_GROUP: Final = ("224.0.0.251", 5353)


@dataclass(frozen=True, slots=True)
class InterfaceInfo:
    """One network interface as seen from this process's network namespace.

    `addresses` lists IPv4 addresses first, then IPv6 ones; link-local IPv6 addresses carry
    their scope (``fe80::1%eth0``). `is_up` means usable right now: administratively up *and*
    the link (carrier) is up; a Wi-Fi adapter that lost its access point, or a cable pulled,
    reads False even though its addresses are still configured. `admin_up` is the
    administrative state alone (`ip link set ... up`).
    """

    name: str
    addresses: tuple[str, ...]
    is_up: bool
    is_loopback: bool
    multicast: bool
    admin_up: bool = True

    @property
    def ipv4(self) -> tuple[str, ...]:
        return tuple(a for a in self.addresses if ":" not in a)


def list_interfaces() -> list[InterfaceInfo]:
    """Every interface with its addresses and state, sorted by name.

    Never raises: on an unexpected platform or error it degrades to the best-effort answer
    described in the module docstring.
    """
    if sys.platform.startswith("linux"):
        try:
            return _linux_interfaces()
        except OSError as exc:
            log.debug("exact interface listing failed (%s); using the portable fallback", exc)
    return _fallback_interfaces()


def usable_addresses(
    *, ipv6: bool = False, include_loopback: bool = True, need_carrier: bool = True
) -> frozenset[str]:
    """Addresses of interfaces that are up, IPv4 only unless `ipv6`.

    "Up" means administratively up and, if `need_carrier`, with the link up as well.
    """
    found: set[str] = set()
    for iface in list_interfaces():
        if not (iface.is_up if need_carrier else iface.admin_up):
            continue
        if iface.is_loopback and not include_loopback:
            continue
        found.update(a for a in iface.addresses if ipv6 or ":" not in a)
    return frozenset(found)


def multicast_source_address() -> str | None:
    """The IPv4 source address the kernel would use for mDNS multicast, or None.

    Uses the UDP-connect trick: `connect()` on a datagram socket only performs a route
    lookup, so nothing is sent.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(_MDNS_GROUP)
            address = sock.getsockname()[0]
    except OSError:
        return None
    return None if address == "0.0.0.0" else str(address)


def default_port_free(port: int, host: str = "0.0.0.0") -> bool:
    """Whether a TCP server could listen on `host:port` right now (binds, then closes).

    SO_REUSEADDR is set like asyncio servers do, so a port held only by TIME_WAIT
    connections counts as free, while one with a listener does not.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


# --- Linux -----------------------------------------------------------------------------------


def _linux_interfaces() -> list[InterfaceInfo]:
    v4 = _ipv4_by_interface()
    v6 = _ipv6_by_interface()
    result = []
    for _index, name in socket.if_nameindex():
        flags = int(_read_sys(name, "flags") or "0", 16)
        result.append(
            InterfaceInfo(
                name=name,
                addresses=tuple(v4.get(name, ())) + tuple(v6.get(name, ())),
                is_up=bool(flags & _IFF_UP) and _link_up(name),
                is_loopback=bool(flags & _IFF_LOOPBACK),
                multicast=bool(flags & _IFF_MULTICAST),
                admin_up=bool(flags & _IFF_UP),
            )
        )
    return sorted(result, key=lambda i: i.name)


def _read_sys(name: str, attribute: str) -> str | None:
    try:
        return (_SYS_NET / name / attribute).read_text().strip()
    except OSError:  # e.g. `carrier` of an interface that is administratively down: EINVAL
        return None


def _link_up(name: str) -> bool:
    operstate = _read_sys(name, "operstate")
    if operstate == "up":
        return True
    if operstate in (None, "unknown"):  # loopback, tun and dummy devices report "unknown"
        return _read_sys(name, "carrier") == "1"
    return False


def _ifreq_size() -> int:
    # struct ifreq: a 16-byte name and a union whose largest member is struct ifmap
    # (two unsigned longs, an unsigned short and three unsigned chars, padded to a long).
    align = struct.calcsize("L")
    ifmap = -(-struct.calcsize("LLHBBB") // align) * align
    return _IFNAMSIZ + max(16, ifmap)


def _ipv4_by_interface() -> dict[str, list[str]]:
    """All IPv4 addresses (primary and secondary) via SIOCGIFCONF, by interface name."""
    import fcntl  # POSIX only; imported here so that importing this module never fails

    ifreq = _ifreq_size()
    capacity = 64
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        while True:
            buf = array.array("B", bytes(capacity * ifreq))
            pointer, _ = buf.buffer_info()
            request = struct.pack("iP", len(buf), pointer)
            reply = fcntl.ioctl(sock.fileno(), _SIOCGIFCONF, request)
            used = struct.unpack("iP", reply)[0]
            if used < len(buf) or capacity >= 65536:
                break
            capacity *= 4  # the buffer was filled: there may be more
    data = buf.tobytes()[:used]
    found: dict[str, list[str]] = {}
    for offset in range(0, used - ifreq + 1, ifreq):
        label = data[offset : offset + _IFNAMSIZ].split(b"\0", 1)[0].decode(errors="replace")
        family = struct.unpack_from("H", data, offset + _IFNAMSIZ)[0]
        if family != socket.AF_INET:
            continue
        address = socket.inet_ntoa(data[offset + _IFNAMSIZ + 4 : offset + _IFNAMSIZ + 8])
        name = label.split(":", 1)[0]  # "eth0:1" is an alias label of eth0
        if address not in found.setdefault(name, []):
            found[name].append(address)
    return found


def _ipv6_by_interface() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    try:
        lines = _PROC_IF_INET6.read_text().splitlines()
    except OSError:  # IPv6 disabled in this kernel
        return found
    for line in lines:
        fields = line.split()
        if len(fields) != 6:
            continue
        hex_address, _index, _prefix, scope, flags, name = fields
        if int(flags, 16) & (_IFA_F_TENTATIVE | _IFA_F_DADFAILED):
            continue
        address = str(ipaddress.IPv6Address(bytes.fromhex(hex_address)))
        if int(scope, 16) == _IPV6_SCOPE_LINK:
            address = f"{address}%{name}"
        found.setdefault(name, []).append(address)
    return found


# --- everywhere else -------------------------------------------------------------------------


def _fallback_interfaces() -> list[InterfaceInfo]:
    addresses: list[str] = []
    with contextlib.suppress(OSError, UnicodeError):
        for *_, sockaddr in socket.getaddrinfo(socket.gethostname(), None, type=socket.SOCK_DGRAM):
            addresses.append(str(sockaddr[0]))
    source = multicast_source_address()
    if source is not None:
        addresses.append(source)
    addresses.append("127.0.0.1")
    unique = sorted(set(addresses), key=lambda a: (":" in a, a))
    loopback = tuple(a for a in unique if ipaddress.ip_address(a.split("%")[0]).is_loopback)
    others = tuple(a for a in unique if a not in loopback)
    result = [InterfaceInfo("loopback", loopback, True, True, False)]
    if others:
        result.append(InterfaceInfo("*", others, True, False, True))
    return result
