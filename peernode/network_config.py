"""Settings of the networking layer, built at the CLI edge and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from peernode.errors import BadInput
from peernode.link import LinkConfig

DEFAULT_PORT: Final = 7420


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """port: None = DEFAULT_PORT, or any free port when that one is taken; 0 = any.
    peers: addresses to link to and keep linked. mdns: announce and browse."""

    port: int | None = None
    host: str = "0.0.0.0"
    peers: tuple[tuple[str, int], ...] = ()
    mdns: bool = True
    link: LinkConfig = field(default_factory=LinkConfig)
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0


def parse_address(text: str) -> tuple[str, int]:
    """'HOST:PORT' or '[v6]:PORT' → (host, port), with a clear error."""
    host, sep, port_text = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise BadInput(f"expected HOST:PORT (like 192.168.1.20:{DEFAULT_PORT}), got {text!r}")
    return host, int(port_text)
