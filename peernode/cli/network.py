"""Commands about the room: serve, status, peers, connect, doctor."""

from __future__ import annotations

import asyncio
import signal

import click

from peernode.api import ApiConfig
from peernode.cli.offline import run_with_node
from peernode.cli.options import command, emit_json, pass_home
from peernode.home import Home
from peernode.net.config import DEFAULT_PORT, LinkConfig, NetworkConfig, parse_address
from peernode.node import Node, NodeConfig
from peernode.views import NodeStatus
from protocol.identity import fingerprint


@command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help=f"Port for peer links (default {DEFAULT_PORT}, or any free one if taken; 0 = any).",
)
@click.option(
    "--peer",
    "peers",
    multiple=True,
    metavar="HOST[:PORT]",
    help=f"Also link to this peer (the port is {DEFAULT_PORT} unless given).",
)
@click.option("--no-mdns", is_flag=True, help="Do not announce or look for peers by mDNS.")
@click.option(
    "--heartbeat",
    type=click.FloatRange(min=0.5),
    default=LinkConfig().heartbeat,
    show_default=True,
    metavar="SECONDS",
    help="How often a quiet link is checked: a peer that vanished (asleep, cable out)"
    " is noticed within about 1.5 times this.",
)
@click.option(
    "--api-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port of the local API on 127.0.0.1 and ::1 (default: any free one;"
    " 'peernode api url' says which).",
)
@click.option("--no-api", is_flag=True, help="Do not serve the local API for bots and scripts.")
@pass_home
def serve(
    home: Home,
    port: int | None,
    peers: tuple[str, ...],
    no_mdns: bool,
    heartbeat: float,
    api_port: int | None,
    no_api: bool,
) -> None:
    """Run the node without the UI until Ctrl-C (or SIGTERM); one per home."""
    if no_api and api_port is not None:
        raise click.UsageError("--api-port and --no-api do not go together: choose one")
    addresses = tuple(parse_address(peer) for peer in peers)
    link = LinkConfig(heartbeat=heartbeat)
    network = NetworkConfig(port=port, peers=addresses, mdns=not no_mdns, link=link)
    api = None if no_api else ApiConfig(port=api_port or 0)
    asyncio.run(_serve(home, NodeConfig(network=network, role="serve", api=api)))


async def _serve(home: Home, config: NodeConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with Node(home, config) as node:
        node.ensure_identity()
        await node.start_network()
        status = await node.status()
        api = f"; local API at {node.api.url()}" if node.api is not None else ""
        click.echo(
            f"peernode serving as {status.name} ({node.my_profile().fingerprint}) on port"
            f" {status.port}; mDNS {status.discovery}{api}; Ctrl-C to stop",
            err=True,
        )
        await stop.wait()
        click.echo("stopping: saying goodbye to peers ...", err=True)
    click.echo("stopped", err=True)


def _status(home: Home) -> NodeStatus:
    """The running node's live status, or what the database says when none runs."""
    from peernode.net import control  # aiohttp is loaded only by commands that talk to a node

    try:
        result = asyncio.run(control.call(home, "status"))
    except control.NotRunning:
        return run_with_node(home, _offline_status)
    return NodeStatus.from_json(result)


async def _offline_status(node: Node) -> NodeStatus:
    node.ensure_identity()
    return await node.status()


@command(json_lines=True)
@pass_home
def status(home: Home, as_json: bool) -> None:
    """This node at a glance: key, port, events stored, peers and sync state."""
    result = _status(home)
    if as_json:
        emit_json(result.to_json())
        return
    running = f"port {result.port}" if result.port is not None else "not running"
    click.echo(f"{result.name} ({fingerprint(result.key)})  {running}  mDNS {result.discovery}")
    click.echo(f"network: {result.network} (protocol {result.spec})")
    click.echo(f"events stored: {result.events}")
    click.echo(f"peers: {result.linked} linked, {result.sync_summary}")


@command(json_lines=True)
@pass_home
def peers(home: Home, as_json: bool) -> None:
    """Peers seen or remembered: key, name, address, link state, last seen."""
    result = _status(home)
    for peer in result.peers:
        if as_json:
            emit_json(peer.to_json())
            continue
        state = "linked" if peer.linked else "offline"
        sync = ", in sync" if peer.linked and peer.in_sync else ""
        click.echo(
            f"{peer.name or '?':20} {peer.fingerprint}  {peer.address:22} {state}{sync}"
            f"  {peer.events_exchanged} events"
        )
    for skipped in result.skipped:
        if as_json:
            emit_json({"skipped": skipped.to_json()})
        else:
            click.echo(f"{skipped.name or '?':20} not linked: {skipped.reason}")
    if not result.peers and not as_json:
        click.echo("no peers yet (see 'peernode doctor')", err=True)


@command(json_lines=True)
@click.argument("address", metavar="HOST[:PORT]")
@pass_home
def connect(home: Home, as_json: bool, address: str) -> None:
    """Ask the running node to link to a peer (when mDNS cannot find it).

    ADDRESS is what the other learner's status bar shows: 192.168.1.20, 192.168.1.20:7654,
    fe80::1 or [fe80::1]:7654; without a port, 7420 is meant."""
    from peernode.net import control

    host, port = parse_address(address)
    result = asyncio.run(control.call(home, "connect", {"host": host, "port": port}))
    if as_json:
        emit_json(result)
    else:
        click.echo(f"linked to {result['name'] or '?'} ({result['fingerprint']}) at {address}")


@command()
@pass_home
def doctor(home: Home) -> None:
    """Explain, in plain words, what this node sees on the network."""
    from peernode.net.doctor import run_doctor

    ok = run_doctor(home, click.echo)
    click.get_current_context().exit(0 if ok else 1)
