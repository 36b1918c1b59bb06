"""A peer's address as a person types it (HOST or HOST:PORT), and the port a node listens on."""

from __future__ import annotations

import ipaddress
from typing import Final

from peernode.errors import BadInput

DEFAULT_PORT: Final = 7420


def parse_address(text: str) -> tuple[str, int]:
    """'HOST', 'HOST:PORT', '[IPv6]:PORT' or a bare IPv6 address → (host, port).

    Without a port the node's usual port (7420) is meant; errors are one plain sentence."""
    text = text.strip()
    example = f"like 192.168.1.20 or 192.168.1.20:{DEFAULT_PORT}"
    if not text:
        raise BadInput(f"type the other laptop's address, {example}")
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        if not bracket or not inside or (rest and not rest.startswith(":")):
            raise BadInput(f"write an IPv6 address as [fe80::1] or [fe80::1]:{DEFAULT_PORT}")
        return inside, _port(rest[1:], example) if rest else DEFAULT_PORT
    if text.count(":") > 1:  # a bare IPv6 address: its colons are not a port
        if not _is_ipv6(text):
            raise BadInput(f"put an IPv6 address in brackets, like [fe80::1]:{DEFAULT_PORT}")
        return text, DEFAULT_PORT
    host, sep, port_text = text.partition(":")
    if not host or any(c.isspace() for c in host):
        raise BadInput(f"expected an address {example}, got {text!r}")
    return host, _port(port_text, example) if sep else DEFAULT_PORT


def _port(text: str, example: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise BadInput(f"the port must be a number from 1 to 65535 ({example})")
    return int(text)


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True
