"""A peer's address as a person types it (HOST:PORT), and the port a node listens on."""

from __future__ import annotations

from typing import Final

from peernode.errors import BadInput

DEFAULT_PORT: Final = 7420


def parse_address(text: str) -> tuple[str, int]:
    """'HOST:PORT' or '[IPv6]:PORT' → (host, port), with a clear error."""
    host, sep, port_text = text.rpartition(":")
    example = f"like 192.168.1.20:{DEFAULT_PORT}"
    if not sep or not host:
        raise BadInput(f"expected HOST:PORT ({example}), got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise BadInput(f"put an IPv6 address in brackets, like [fe80::1]:{DEFAULT_PORT}")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise BadInput(f"the port must be a number from 1 to 65535 ({example})")
    return host, int(port_text)
