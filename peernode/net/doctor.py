"""The network check: what this node sees, finding by finding, and what to try next.

`peernode doctor` prints the findings; the room (the TUI) shows them as they come, from
`Node.diagnose`. Both run `diagnose()`, so they always agree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from peernode.home import Home
from peernode.net import control
from peernode.net.config import DEFAULT_PORT
from peernode.net.discovery import Discovery, OtherNetwork, PeerHint
from peernode.net.netinfo import list_interfaces, multicast_source_address
from peernode.text import plural, short_fingerprint
from peernode.views import Finding, NodeStatus
from protocol.identity import SigningKey

LISTEN_SECONDS: Final = 4.0
"""How long the check listens for other peers' mDNS announcements."""
STEPS: Final = 3
"""The steps `diagnose` announces: this computer, this node, listening for peers."""
LINK_BY_ADDRESS: Final = "add a peer by its address ('a' in the room, 'peernode connect HOST')"

Found = Callable[[Finding], None]
Step = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class LinkSeen:
    name: str
    address: str
    in_sync: bool


@dataclass(frozen=True, slots=True)
class NodeSeen:
    """What the check needs of the running node: from its status in the same process, or
    from the control API's answer when the check runs beside it (`peernode doctor`)."""

    key: bytes
    name: str
    port: int
    discovery: str
    links: tuple[LinkSeen, ...]
    network: str
    spec: str

    @classmethod
    def from_status(cls, status: NodeStatus) -> NodeSeen | None:
        if status.port is None:
            return None
        links = (LinkSeen(p.name, p.address, p.in_sync) for p in status.peers if p.linked)
        return cls(
            status.key,
            status.name,
            status.port,
            status.discovery,
            tuple(links),
            status.network,
            status.spec,
        )


def run_doctor(home: Home, echo: Callable[[str], None]) -> bool:
    """Print the findings; True when at least one peer is linked or heard."""

    def show(finding: Finding) -> None:
        echo(f"{'!' if finding.problem else '-'} {finding.sentence}")
        if finding.next_step:
            echo(f"  Try: {finding.next_step}")

    return asyncio.run(_diagnose_beside(home, show, lambda step: echo(f"\n{step} ...")))


async def _diagnose_beside(home: Home, found: Found, step: Step) -> bool:
    try:
        answer = await control.call(home, "status")
    except control.NotRunning:
        answer = None
    try:
        node = NodeSeen.from_status(NodeStatus.from_json(answer))
    except (KeyError, TypeError, ValueError):  # no node, or one that answers otherwise
        node = None
    return await diagnose(node, found, step)


async def diagnose(
    node: NodeSeen | None,
    found: Found,
    step: Step = lambda _step: None,
    *,
    listen_seconds: float = LISTEN_SECONDS,
) -> bool:
    """Report each finding as it is made and each of the STEPS as it starts; True when
    at least one peer is linked or heard."""
    step("Looking at this computer's network connections")
    addresses = _check_computer(found)
    step("Asking the node about its links")
    _check_node(node, found)
    step(f"Listening for peers nearby for {listen_seconds:g} seconds")
    heard_self, hints, others = await _listen(listen_seconds)
    hints = [hint for hint in hints if node is None or hint.key_hint != node.key]  # not me
    _check_discovery(heard_self, hints, others, found)
    linked = node is not None and bool(node.links)
    if not hints:
        port = node.port if node is not None else DEFAULT_PORT
        found(_nobody_found(addresses, port, linked=linked))
    return bool(hints) or linked


def _check_computer(found: Found) -> list[str]:
    """One finding per connected interface (or one saying there is none); their addresses."""
    usable: list[str] = []
    for iface in list_interfaces():
        if iface.is_loopback or not iface.is_up or not iface.ipv4:
            continue
        usable.extend(iface.ipv4)
        shown = ", ".join(iface.ipv4)
        if iface.multicast:
            found(Finding(f"{iface.name} is connected, with address {shown}."))
        else:
            found(
                Finding(
                    f"{iface.name} is connected (address {shown}) but cannot multicast,"
                    " so peers cannot find you on it by themselves.",
                    f"{LINK_BY_ADDRESS}.",
                    problem=True,
                )
            )
    if not usable:
        found(
            Finding(
                "This computer is not connected to any network.",
                "Join the room's Wi-Fi or plug in a cable, then check again.",
                problem=True,
            )
        )
    source = multicast_source_address()
    if usable and source:
        found(Finding(f"Announcements to peers nearby go out from {source}."))
    return usable


def _check_node(node: NodeSeen | None, found: Found) -> None:
    if node is None:
        found(
            Finding(
                "No node is running for this home, so no one can link to you.",
                "Open the room (./scripts/run or 'peernode') or run 'peernode serve',"
                " then check again.",
                problem=True,
            )
        )
        return
    found(Finding(f"Your node is on the network '{node.network}' (protocol {node.spec})."))
    if node.discovery == "on":
        found(Finding(f"You are {node.name}, reachable on port {node.port}, and announced."))
    else:
        found(
            Finding(
                f"You are {node.name}, reachable on port {node.port}, but not announced"
                f" (discovery is {node.discovery}), so peers will not find you by themselves.",
                f"{LINK_BY_ADDRESS}.",
                problem=node.discovery != "off",  # off was asked for; unavailable was not
            )
        )
    if not node.links:
        found(Finding("No peer is linked to you yet."))
        return
    links = ", ".join(
        f"{link.name} at {link.address} ({'in sync' if link.in_sync else 'syncing'})"
        for link in node.links
    )
    found(Finding(f"Linked to {plural(len(node.links), 'peer')}: {links}."))


def _check_discovery(
    heard_self: bool, hints: list[PeerHint], others: tuple[OtherNetwork, ...], found: Found
) -> None:
    if heard_self:
        found(Finding("Discovery works here: this computer hears its own announcement."))
    else:
        found(
            Finding(
                "This computer does not hear its own announcement: multicast (mDNS) seems"
                " blocked here.",
                f"Allow UDP port 5353 through the firewall, or {LINK_BY_ADDRESS}.",
                problem=True,
            )
        )
    for hint in hints:
        key = short_fingerprint(hint.key_hint) if hint.key_hint else "no key"
        where = ", ".join(f"{address}:{hint.port}" for address in hint.addresses)
        found(Finding(f"Found {hint.name} ({key}) at {where}."))
    for other in others:
        found(
            Finding(
                f"Found {other.name}, but not linking: {other.reason}.",
                "Everyone in the room must use the same network; ask which one it is.",
                problem=True,
            )
        )


def _nobody_found(addresses: list[str], port: int, *, linked: bool) -> Finding:
    if linked:
        return Finding("No other peernode announces itself nearby (your links are above).")
    if addresses:
        mine = f"{addresses[0]}:{port}"
        link = f"others can add you as {mine} ('a' in the room, or 'peernode connect {mine}')"
    else:
        link = LINK_BY_ADDRESS
    return Finding(
        "No other peernode answers on this network.",
        "Check that everyone is on the same Wi-Fi (guest networks often keep devices apart),"
        f" allow TCP port {port} and UDP port 5353 through the firewall, or {link}.",
        problem=True,
    )


async def _listen(seconds: float) -> tuple[bool, list[PeerHint], tuple[OtherNetwork, ...]]:
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
            heard = await discovery.announcement_heard(timeout=seconds)
            await asyncio.sleep(max(0.0, seconds / 2))
            others = discovery.other_networks
    except OSError:
        return False, [], ()
    return heard, [hint for hint in found.values() if hint.key_hint != probe_key], others
