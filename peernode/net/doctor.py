"""`peernode doctor`: what this node sees on the network, in plain words, and what to try."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from peernode.home import Home
from peernode.net import control
from peernode.net.config import DEFAULT_PORT
from peernode.net.discovery import Discovery, OtherNetwork, PeerHint
from peernode.net.netinfo import list_interfaces, multicast_source_address
from protocol.identity import SigningKey, fingerprint

LISTEN_SECONDS = 4.0

Echo = Callable[[str], None]


def run_doctor(home: Home, echo: Echo) -> bool:
    """Print the diagnosis; True when at least one peer is linked or heard."""
    return asyncio.run(_diagnose(home, echo))


async def _diagnose(home: Home, echo: Echo) -> bool:
    echo("== This computer")
    addresses = _report_interfaces(echo)

    echo("\n== This node")
    status = await _running_status(home)
    port = DEFAULT_PORT
    if status is None:
        echo(
            f"  no node is running for {home.path} (start one with 'peernode' or 'peernode serve')"
        )
    else:
        port = int(status["port"])
        linked = [peer for peer in status["peers"] if peer["linked"]]
        echo(f"  running as {status['name']} on port {port}, mDNS {status['discovery']}")
        echo(f"  network {status.get('network', '?')}, protocol {status.get('spec', '?')}")
        echo(f"  {len(linked)} peer(s) linked, {status['events']} events stored")
        for peer in linked:
            state = "in sync" if peer["in_sync"] else "syncing"
            echo(f"    - {peer['name'] or '?'} at {peer['address']} ({state})")

    echo(f"\n== Looking for peers by mDNS for {LISTEN_SECONDS:.0f} seconds ...")
    heard_self, found, others = await _listen()
    if heard_self:
        echo("  my own mDNS announcement is heard: multicast works on this computer")
    else:
        echo("  my own mDNS announcement is NOT heard: multicast seems blocked here")
    for hint in found:
        key = fingerprint(hint.key_hint) if hint.key_hint else "no key"
        echo(f"  found {hint.name} ({key}) at {', '.join(hint.addresses)}:{hint.port}")
    for other in others:
        echo(f"  found {other.name}, not linking: {other.reason}")
    if not found:
        echo("  no other peernode found on this network")

    linked_any = bool(status and any(peer["linked"] for peer in status["peers"]))
    if not found and not linked_any:
        _advise(echo, addresses, port)
    return bool(found) or linked_any


def _report_interfaces(echo: Echo) -> list[str]:
    usable: list[str] = []
    for iface in list_interfaces():
        if iface.is_loopback:
            continue
        state = "up" if iface.is_up else "down"
        multicast = "multicast" if iface.multicast else "no multicast"
        shown = ", ".join(iface.ipv4) or "no IPv4 address"
        echo(f"  {iface.name}: {state}, {multicast}, {shown}")
        if iface.is_up:
            usable.extend(iface.ipv4)
    if not usable:
        echo("  no network connection: join the room's Wi-Fi or plug in a cable")
    source = multicast_source_address()
    if source:
        echo(f"  mDNS goes out from {source}")
    return usable


async def _running_status(home: Home) -> dict[str, Any] | None:
    try:
        result = await control.call(home, "status")
    except control.NotRunning:
        return None
    return result if isinstance(result, dict) else None


async def _listen() -> tuple[bool, list[PeerHint], tuple[OtherNetwork, ...]]:
    """Announce a throw-away identity and collect what answers."""
    probe_key = SigningKey.generate().public_key
    found: dict[str, PeerHint] = {}
    discovery = Discovery(
        public_key=probe_key,
        port=9,
        name="doctor",
        on_found=lambda hint: found.__setitem__(hint.instance, hint),
    )
    try:
        async with discovery:
            heard = await discovery.announcement_heard(timeout=LISTEN_SECONDS)
            await asyncio.sleep(max(0.0, LISTEN_SECONDS / 2))
            others = discovery.other_networks
    except OSError:
        return False, [], ()
    return heard, [hint for hint in found.values() if hint.key_hint != probe_key], others


def _advise(echo: Echo, addresses: list[str], port: int) -> None:
    echo("\n== What to try")
    echo("  1. Check everyone is on the same Wi-Fi network (not a guest network: those")
    echo("     often keep devices from seeing each other, called 'AP isolation').")
    echo("  2. Allow peernode through the firewall: UDP port 5353 (mDNS) and TCP port")
    echo(f"     {port} (peer links).")
    if addresses:
        mine = ", ".join(f"{address}:{port}" for address in addresses)
        echo(f"  3. Link by address: others can run 'peernode connect {addresses[0]}:{port}'")
        echo(f"     (your addresses: {mine}), or you can run 'peernode connect HOST:PORT'")
        echo("     with theirs. 'peernode serve --peer HOST:PORT' does it at start-up.")
    else:
        echo("  3. Once connected, link by address: 'peernode connect HOST:PORT'.")
