"""What a node's mDNS records say: its instance label, TXT fields and addresses, checked.

What a browse yields is a `PeerHint`: where a node *says* it listens and which key it
*claims*. Both are unauthenticated (anyone on the LAN can send mDNS records), so the
link layer proves the key during its handshake. See docs/discovery.md for the format.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from protocol.handshake import MAX_NETWORK_ID
from protocol.identity import fingerprint
from protocol.wire import SPEC_VERSION

log = logging.getLogger(__name__)

PROTOCOL_VERSION: Final = "1"
"""Value of the `v` TXT key; records with any other value are skipped."""

TXT_SPEC: Final = SPEC_VERSION
"""Value of the `spec` TXT key: the spec version (major.minor) this node follows."""

MAX_NAME_BYTES: Final = 63
"""Display names are cut to this many UTF-8 bytes, both when sent and when received."""

MAX_ADDRESSES_PER_PEER: Final = 16
"""A (possibly spoofed) record with more addresses than this is trimmed."""

_LABEL_CHARS: Final = 40  # leaves room for "-<8 fingerprint chars>" and zeroconf's "-<n>"
_KEY_HEX: Final = re.compile(r"[0-9a-fA-F]{64}")
_NOT_LABEL_CHAR: Final = re.compile(r"[^A-Za-z0-9]+")
_BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True, slots=True)
class PeerHint:
    """Where another node says it can be reached. Nothing here is authenticated.

    `key_hint` is the Ed25519 public key the node claims (None only for hints that did not
    come from mDNS, e.g. a manual `--peer HOST:PORT`); `instance` is its DNS-SD instance
    label (unique among the services on the LAN); `name` its display name.
    """

    key_hint: bytes | None
    addresses: tuple[str, ...]
    port: int
    instance: str
    name: str


@dataclass(frozen=True, slots=True)
class OtherNetwork:
    """A node found on the LAN that announced another network id: it cannot link with us."""

    instance: str
    name: str
    network: bytes  # the network id it announced

    @property
    def reason(self) -> str:
        shown = self.network.decode("utf-8", "replace")
        return f"it is on network '{shown}', not ours, so the two cannot link"


def txt_properties(public_key: bytes, name: str, network_id: bytes) -> dict[str, str | bytes]:
    """The TXT record this node publishes (docs/discovery.md)."""
    return {
        "v": PROTOCOL_VERSION,
        "k": public_key.hex(),
        "n": name,
        "net": network_id,
        "spec": TXT_SPEC,
    }


def other_network(
    instance: str, properties: Mapping[bytes, bytes | None], network_id: bytes
) -> OtherNetwork | None:
    """The record's announcement of another network id, or None (same id, or none given).

    Nodes before spec 1.0 announce no `net`; they are tried, and the handshake decides.
    """
    txt = _txt(properties)
    theirs = txt.get(b"net")
    if theirs is None or theirs == network_id:
        return None
    name = _clean_display_name(txt.get(b"n")) or instance
    return OtherNetwork(instance, name, theirs[:MAX_NETWORK_ID])


def _txt(properties: Mapping[bytes, bytes | None]) -> dict[bytes, bytes | None]:
    txt: dict[bytes, bytes | None] = {}
    for key, value in properties.items():
        txt.setdefault(key.lower(), value)  # DNS-SD keys are case-insensitive
    return txt


def instance_label(name: str, public_key: bytes) -> str:
    """`<display name reduced to letters, digits and dashes>-<8 fingerprint chars>`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    label = _NOT_LABEL_CHAR.sub("-", ascii_name).strip("-")[:_LABEL_CHARS].strip("-")
    return f"{label or 'peer'}-{fingerprint(public_key).replace('-', '')[:8]}"


def truncate_utf8(text: str, limit: int = MAX_NAME_BYTES) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def _clean_display_name(raw: bytes | None) -> str:
    """A received display name made safe to log and show (no control or bidi characters)."""
    if not raw:
        return ""
    text = truncate_utf8(raw.decode("utf-8", "replace"))
    text = "".join(c for c in text if unicodedata.category(c) != "Cc" and c not in _BIDI_CONTROLS)
    return text.strip()


def _address_order(address: str) -> tuple[int, str]:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return (2 if ip.is_loopback else ip.version - 4, address)


def _usable_peer_addresses(addresses: Iterable[str]) -> tuple[str, ...]:
    """Drop addresses no one can connect to; IPv4 before IPv6, loopback only as a last resort.

    Loopback addresses are kept only when a record has nothing else: that is what a node
    on this same machine with no network publishes, while a spoofed record adding
    127.0.0.1 next to real addresses would only point our connections at local services.
    """
    usable: list[str] = []
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            continue
        if ip.is_unspecified or ip.is_multicast or str(ip) == "255.255.255.255":
            continue
        if address not in usable:
            usable.append(address)
    usable.sort(key=_address_order)
    if any(not ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in usable):
        usable = [a for a in usable if not ipaddress.ip_address(a.split("%", 1)[0]).is_loopback]
    return tuple(usable[:MAX_ADDRESSES_PER_PEER])


def hint_from_record(
    instance: str,
    properties: Mapping[bytes, bytes | None],
    addresses: Iterable[str],
    port: int | None,
) -> PeerHint | None:
    """Validate one resolved service; None (with a debug log) when it is not a usable peer.

    Skipped: no TXT record, `v` missing or not our protocol version, `k` missing or not 64
    hex characters, a port outside 1..65535, or no usable address. A record without a valid
    key is skipped rather than reported with `key_hint=None` because every conforming node
    publishes one; anything else is a foreign or broken implementation or a spoof, and
    skipping it keeps the peer cap for genuine nodes.
    """
    txt = _txt(properties)
    if not txt:
        log.debug("skipping %r: no TXT record", instance)
        return None
    if txt.get(b"v") != PROTOCOL_VERSION.encode():
        log.debug("skipping %r: version %r, not %s", instance, txt.get(b"v"), PROTOCOL_VERSION)
        return None
    key_hex = (txt.get(b"k") or b"").decode("ascii", "replace")
    if not _KEY_HEX.fullmatch(key_hex):
        log.debug("skipping %r: malformed key hint %r", instance, key_hex[:80])
        return None
    if port is None or not 0 < port < 65536:
        log.debug("skipping %r: bad port %r", instance, port)
        return None
    usable = _usable_peer_addresses(addresses)
    if not usable:
        log.debug("skipping %r: no usable address", instance)
        return None
    return PeerHint(
        key_hint=bytes.fromhex(key_hex),
        addresses=usable,
        port=port,
        instance=instance,
        name=_clean_display_name(txt.get(b"n")) or instance,
    )
