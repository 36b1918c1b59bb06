"""The networking shell: drives the sans-IO gossip engine with real links and timers.

Rules of this file:
- The engine decides; this module only carries out its actions (send, dial,
  close, verify, load) and feeds it what happens (links, messages, time).
- After every input to the engine, its actions are flushed and the timer re-armed.
- Every task it starts is tracked and ends with the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import gc
import logging
import random
import secrets
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from peernode.clock import now_ms
from peernode.errors import BadInput, NodeError
from peernode.net.config import DEFAULT_PORT, NetworkConfig
from peernode.net.discovery import Discovery, PeerHint
from peernode.net.link import Link, LinkError, LinkFactory
from peernode.net.listener import Listener, bind_tcp
from peernode.net.servegate import ServeGate
from peernode.net.transfer import Transfers
from peernode.ports import GossipNode
from peernode.stream import Subscription
from peernode.views import NodeStatus, PeerStatus, SkippedPeer
from protocol.event import Event, load_verified
from protocol.gossip import Action, Close, Dial, GossipEngine, Send, SendStored, Verify
from protocol.reconcile import ItemIndex
from protocol.wire import SPEC_VERSION, PeerAddress, spec_minor

log = logging.getLogger(__name__)

MAX_CANDIDATES = 256  # mDNS is capped too; this bounds what a flood can leave here
RUN_BYTES = 8  # the handshake's "run": random per start of networking
PUBLISH_BATCH = 500  # events read from the store at a time to hand to the engine


@dataclass(slots=True)
class _ManualPeer:
    """An address the learner asked for: kept linked, with backoff between tries."""

    host: str
    port: int
    key: bytes | None = None
    delay: float = 0.0
    next_try: float = 0.0


class Network:
    """Links, discovery and gossip for one node."""

    def __init__(self, node: GossipNode, config: NetworkConfig) -> None:
        self._node = node
        self._config = config
        self._loop = asyncio.get_running_loop()
        self._links: dict[bytes, Link] = {}
        self._open: set[Link] = set()  # every open link, admitted or on its way out
        self._dialing: set[tuple[str, int]] = set()
        self._own_addresses: set[tuple[str, int]] = set()  # addresses that reached ourselves
        self._manual: dict[tuple[str, int], _ManualPeer] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self._wake = asyncio.Event()
        self._candidates: dict[bytes, PeerAddress] = {}
        self._gate = ServeGate(config.serving, self._loop.time)
        self._transfers = Transfers(
            node,
            links=self._links,
            max_frame_bytes=config.link.max_frame_bytes,
            spawn=self._spawn,
            on_stored=self._stored,
            on_settled=self._settle_index,
            gate=self._gate,
        )
        self._listener: Listener | None = None
        self._discovery: Discovery | None = None
        self._engine: GossipEngine | None = None
        self._index: ItemIndex | None = None
        self._factory: LinkFactory | None = None
        self._routes: list[web.RouteDef] = []
        self._subscription: Subscription | None = None
        # Told to peers in the handshake: a link with another run of a key we hold a link
        # with means that peer started again, and its old link is dead (see _admit).
        self._run_id = secrets.token_hex(RUN_BYTES)
        self.port: int | None = None

    # -- lifecycle ----------------------------------------------------------------

    def add_routes(self, routes: list[web.RouteDef]) -> None:
        """Serve more paths on the listening port (the files' bulk path); before start()."""
        self._routes.extend(routes)

    async def start(self) -> None:
        node = self._node
        # Subscribed before the index is read: an event stored meanwhile (a post while the
        # network starts) is then either in the index or handed to the engine, never lost.
        self._subscription = node.subscribe()
        try:
            await self._start(node)
        except BaseException:
            node.unsubscribe(self._subscription)
            raise

    async def _start(self, node: GossipNode) -> None:
        # Sorting and summing a big index takes a while: not on the event loop.
        self._index = await asyncio.to_thread(_load_index, await node.time_index())
        self._engine = GossipEngine(
            self_key=node.public_key,
            index=self._index,
            rng=random.Random(),
            now=self._now(),
            config=self._config.gossip,
            name=node.my_profile().name,
            work_clock=time.perf_counter,  # the loop's time: what a busy loop costs others
        )
        self._factory = LinkFactory(
            node.key, config=self._config.link, info=self._link_info, on_link=self._run_link
        )
        await self._listen()
        self._engine.set_listen_port(self.port)  # Hello.listen_port agrees with info's port
        # What was declined before the restart is not fetched again (docs/security.md).
        self._engine.restore_declined(await node.declined_ids())
        # Before any link of this run: the peers remembered now were linked in earlier runs.
        self._engine.set_familiar(await node.familiar_keys(), self._now())
        for known in await node.known_peers():
            self._remember_candidate(PeerAddress(known.key, known.host, known.port))
        self._engine.add_candidates(self._candidates.values(), self._now())
        for host, port in self._config.peers:
            self._manual[(host, port)] = _ManualPeer(host, port)
        self._spawn(self._timer_loop(), "gossip timers")
        self._spawn(self._publish_loop(), "publish local events")
        self._spawn(self._manual_loop(), "manual peers")
        self._spawn(self._counter_loop(), "peer counters")
        self._spawn(self._sending_loop(), "links sending")
        self._spawn(self._candidate_loop(), "re-offer known peers")
        self._flush()  # remembered peers are dialled now, not after mDNS has probed
        if self._config.mdns:
            await self._start_discovery()
        _freeze_startup_objects()

    async def stop(self) -> None:
        self._stopping = True  # from now on no task starts and no link is admitted
        if self._listener is not None:
            self._listener.stop_accepting()
        if self._discovery is not None:
            with contextlib.suppress(Exception):
                await self._discovery.stop()  # goodbye packets first
        if self._factory is not None:
            await self._factory.stop_accepting()
        # Every open link, not only admitted ones: an inbound link's handler keeps
        # the web runner's cleanup waiting until its socket closes.
        await asyncio.gather(*(link.close("node shutting down") for link in list(self._open)))
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self._gate.close()
        await self._save_counters()
        if self._subscription is not None:
            self._node.unsubscribe(self._subscription)
        if self._listener is not None:
            await self._listener.close()
        if self._factory is not None:
            await self._factory.close()

    async def _listen(self) -> None:
        assert self._factory is not None
        app = web.Application()
        app.add_routes(self._factory.routes())
        app.add_routes(self._routes)
        wanted = DEFAULT_PORT if self._config.port is None else self._config.port
        try:
            sock = bind_tcp(self._config.host, wanted)
        except OSError as exc:
            if self._config.port is not None or exc.errno != errno.EADDRINUSE:
                raise BadInput(f"cannot listen on port {wanted}: {exc.strerror}") from exc
            sock = bind_tcp(self._config.host, 0)  # another node on this machine has it
        # Handlers end when their links close (stop() closes them all), so a short
        # shutdown timeout only matters if something is stuck.
        # keepalive_timeout: a connection that never sends its upgrade request is
        # dropped after the handshake timeout instead of aiohttp's default hour.
        self._listener = Listener(
            app,
            sock,
            shutdown_timeout=2.0,
            keepalive_timeout=self._config.link.handshake_timeout,
        )
        self.port = self._listener.port
        await self._listener.start()

    async def _start_discovery(self) -> None:
        assert self.port is not None
        self._discovery = Discovery(
            public_key=self._node.public_key,
            port=self.port,
            name=self._node.my_profile().name,
            network_id=self._config.link.network_id,
            on_found=self._on_found,
            resolve_timeout=self._config.mdns_resolve_timeout,
        )
        try:
            await self._discovery.start()
        except Exception as exc:  # mDNS is a convenience: the node works without it
            log.warning("mDNS is unavailable (%s); use --peer HOST:PORT", exc)
            self._discovery = None

    @property
    def discovery_state(self) -> str:
        if not self._config.mdns:
            return "off"
        return "on" if self._discovery is not None else "unavailable"

    def link_info(self) -> dict[str, str | int]:
        """What this node tells a peer in the handshake (the files' bulk path says the same)."""
        return self._link_info()

    def _link_info(self) -> dict[str, str | int]:
        info: dict[str, str | int] = {
            "name": self._node.my_profile().name,
            "spec": SPEC_VERSION,
            "run": self._run_id,
        }
        if self.port:
            info["port"] = self.port
        return info

    # -- the engine ---------------------------------------------------------------

    def _now(self) -> float:
        return self._loop.time()

    @property
    def engine(self) -> GossipEngine:
        assert self._engine is not None, "network not started"
        return self._engine

    def _flush(self) -> None:
        while actions := self.engine.actions():
            self._run_actions(actions)
        self._wake.set()

    def _run_actions(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                link = self._links.get(action.peer)
                if link is not None and not link.send_nowait(action.data):
                    self._spawn(link.close("peer too slow: send queue full"), "close slow link")
            elif isinstance(action, Dial):
                self._dial_candidate(action.address)
            elif isinstance(action, Close):
                link = self._links.get(action.peer)
                if link is not None:
                    log.info("closing %r: %s", link, action.reason)
                    self._spawn(link.close(action.reason), "close link")
            elif isinstance(action, Verify):
                self._transfers.verify(action.peer, action.raws)
            elif isinstance(action, SendStored):
                self._transfers.send_stored(
                    action.peer, action.ids, action.raws, answer=not action.push
                )

    async def _timer_loop(self) -> None:
        while True:
            deadline = self.engine.get_timer()
            timeout = None if deadline is None else max(0.0, deadline - self._now())
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the
            # cancellation that stop() sends when the event was set just before.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            self._wake.clear()
            deadline = self.engine.get_timer()
            if deadline is not None and deadline <= self._now():
                self.engine.handle_timer(self._now())
                self._flush()

    async def _publish_loop(self) -> None:
        """Hand the engine events that did not come from a peer (posts, CLI writes)."""
        subscription = self._subscription
        assert subscription is not None
        while True:
            batch = [await subscription.queue.get()]
            while not subscription.queue.empty():
                batch.append(subscription.queue.get_nowait())
            if subscription.take_overflow():
                await self._publish_dropped()
            local = [event for event in batch if self._new_here(event.id)]
            # Local-only events (the demo room's) are never offered to any peer.
            shared = await self._node.shared_ids([event.id for event in local]) if local else ()
            if shared:
                self.engine.publish([e for e in local if e.id in shared], self._now())
                self._flush()

    def _new_here(self, event_id: bytes) -> bool:
        """Stored here and not known to gossip: not in its index, not from a peer."""
        assert self._index is not None
        return event_id not in self._index and not self._transfers.arriving(event_id)

    async def _publish_dropped(self) -> None:
        """The subscription dropped events (a burst outran this loop): find those held that
        gossip does not know by reading the ids again, and hand them to the engine."""
        missing = [eid for _, eid in await self._node.time_index() if self._new_here(eid)]
        for start in range(0, len(missing), PUBLISH_BATCH):
            raws = await self._node.shared_events(missing[start : start + PUBLISH_BATCH])
            self.engine.publish([load_verified(raw) for raw in raws], self._now())
            self._flush()

    def _stored(self, peer: bytes, new: list[Event], rejected: int, declined: list[bytes]) -> None:
        """Tell the engine what became of a batch it handed out for verification."""
        if self._engine is None:
            return
        now = self._now()
        self._engine.stored(peer, new, now, declined=declined)
        if rejected:
            self._engine.rejected(peer, rejected, now)
        self._flush()

    def _settle_index(self) -> None:
        """Merge the ids just added into the sorted index now, a batch at a time, rather
        than all at once at the next reconciliation (a long stall after a big catch-up)."""
        if self._index is not None and len(self._index):
            self._index.position((0, b""))

    # -- links --------------------------------------------------------------------

    async def _run_link(self, link: Link, dialled_port: int | None = None) -> None:
        """Own one established link until it closes (inbound and outbound alike)."""
        self._open.add(link)
        try:
            await self._own_link(link, dialled_port)
        finally:
            self._open.discard(link)

    async def _own_link(self, link: Link, dialled_port: int | None) -> None:
        """dialled_port: the port we reached it at, if we dialled (a port forward or proxy
        may differ from the port it listens on, and only the dialled one is known to work)."""
        if self._stopping:
            await link.close("node shutting down")
            return
        if link.key == self._node.public_key:
            await link.close("that address is this node itself")
            return
        if self._node.is_blocked(link.key):
            await link.close("blocked by this learner")
            return
        if not self._admit(link):
            await link.close("already linked to this peer")
            return
        port = dialled_port or link.listen_port
        address = PeerAddress(link.key, link.remote_host, port or 0)
        self.engine.link_up(link.key, self._now(), outbound=link.outbound, address=address)
        self._flush()
        if port:
            self._spawn(
                self._node.remember_peer(link.key, link.name, link.remote_host, port),
                "remember peer",
            )
        try:
            await link.run(lambda data: self._on_payload(link, data))
        finally:
            if self._links.get(link.key) is link:
                del self._links[link.key]
                if self._engine is not None:
                    self.engine.link_down(link.key, self._now())
                    self._flush()
            log.info("link %r closed: %s", link, link.close_reason)

    def _admit(self, link: Link) -> bool:
        """One link per pair: when both dialled at once, keep the one the smaller key dialled.

        A peer that dials us again while we still hold its inbound link found that link
        dead (it slept, its network changed): the new one replaces it, instead of being
        refused until our heartbeat notices. So does a link from another run of the peer,
        either way: it started again, and the link we hold goes nowhere.
        """
        existing = self._links.get(link.key)
        if existing is None:
            self._links[link.key] = link
            return True
        if existing.peer_run and link.peer_run and existing.peer_run != link.peer_run:
            reason = "replaced: the peer started again"
        elif existing.outbound == link.outbound:
            if link.outbound:
                return False
            reason = "replaced by the peer's new link"
        else:
            if link.outbound != (self._node.public_key < link.key):
                return False
            reason = "replaced by the link the other way"
        self._links[link.key] = link
        self._spawn(existing.close(reason), "close replaced link")
        return True

    def _on_payload(self, link: Link, data: bytes) -> None:
        if self._links.get(link.key) is link:
            self.engine.receive(link.key, data, self._now())
            self._flush()

    def _dial_candidate(self, address: PeerAddress) -> None:
        target = (address.host, address.port)
        if address.key in self._links or target in self._dialing:
            return
        if address.key and self._node.is_blocked(address.key):
            self.engine.dial_failed(address, self._now())  # never dialled: _flush goes on
            return
        self._spawn(self._dial(address), f"dial {address.host}:{address.port}")

    async def _dial(self, address: PeerAddress) -> Link | None:
        assert self._factory is not None
        target = (address.host, address.port)
        self._dialing.add(target)
        try:
            link = await self._factory.dial(
                address.host, address.port, expected=address.key or None
            )
        except LinkError as exc:
            log.info("%s", exc)
            self.engine.dial_failed(address, self._now())
            self._flush()
            return None
        finally:
            self._dialing.discard(target)
        if link.key == self._node.public_key:
            # Our own address (announced back to us, or given by mistake): never again.
            await link.close("that address is this node itself")
            if target not in self._own_addresses:
                self._own_addresses.add(target)
                log.info("%s:%d is this node itself: not linking to it", *target)
            self.engine.dial_failed(address, self._now())
            self._flush()
            return None
        return link if await self._adopt(link, address.port) else None

    async def _adopt(self, link: Link, port: int) -> bool:
        """Run a link we dialled at `port`; False (and closed) when the network is stopping."""
        if self._stopping:
            await link.close("node shutting down")
            return False
        self._spawn(self._run_link(link, port), f"link {link!r}")
        return True

    async def connect(self, host: str, port: int) -> PeerStatus:
        """Link to HOST:PORT now and keep it linked; raises NodeError with the reason."""
        assert self._factory is not None
        try:
            link = await self._factory.dial(host, port)
        except LinkError as exc:
            raise NodeError(str(exc)) from exc
        if link.key == self._node.public_key:
            await link.close("that address is this node itself")
            self._own_addresses.add((host, port))
            raise BadInput(f"{host}:{port} is this node itself")
        if self._node.is_blocked(link.key):
            await link.close("blocked by this learner")
            raise BadInput(f"{host}:{port} is someone you blocked; unblock them first")
        self._trust(link.key)
        if not await self._adopt(link, port):
            raise NodeError("networking is stopping")
        self._manual[(host, port)] = _ManualPeer(host, port, key=link.key)
        await asyncio.sleep(0)
        return self._peer_status(link.key)

    def _trust(self, key: bytes) -> None:
        """Named by the learner: not a stranger, for admission and for link slots (a slot
        is found for it when it links again, whoever holds the others)."""
        self._node.trust_peer(key)
        self.engine.add_familiar(key, self._now())
        self._flush()

    async def _manual_loop(self) -> None:
        while True:
            now = self._now()
            for peer in list(self._manual.values()):
                if (peer.host, peer.port) in self._own_addresses:
                    del self._manual[(peer.host, peer.port)]
                    continue
                if peer.key is not None and peer.key in self._links:
                    peer.delay = peer.next_try = 0.0  # linked (either way): no backoff left
                    continue
                if now < peer.next_try or (peer.host, peer.port) in self._dialing:
                    continue
                link = await self._dial(PeerAddress(peer.key or b"", peer.host, peer.port))
                if link is None:
                    peer.delay = min(
                        self._config.reconnect_max, max(self._config.reconnect_min, peer.delay * 2)
                    )
                    peer.next_try = self._now() + peer.delay * random.uniform(0.8, 1.2)
                else:
                    self._trust(link.key)
                    peer.key, peer.delay = link.key, 0.0
            await asyncio.sleep(self._config.manual_interval)

    def _on_found(self, hint: PeerHint) -> None:
        """A peer announced itself (appeared, changed, or started again): dial it now,
        whatever backoff its absence earned, here and in the engine."""
        if not hint.addresses or hint.key_hint == self._node.public_key:
            return
        address = PeerAddress(hint.key_hint or b"", hint.addresses[0], hint.port)
        self._remember_candidate(address)
        for peer in self._manual.values():
            if peer.key is not None and peer.key == hint.key_hint:
                peer.delay = peer.next_try = 0.0
        self.engine.announced(address, self._now())
        self._flush()

    def policy_changed(self) -> None:
        """A stranger became familiar: let the engine fetch again what it declined.
        (A block or unblock restarts networking instead, see Node.)"""
        if self._engine is not None and not self._stopping:
            self._engine.forget_declined()

    def storage_recovered(self) -> None:
        """Writes work again: what arrived while they failed was lost, so fetch it now."""
        if self._engine is not None and not self._stopping:
            self._engine.resync_all(self._now())
            self._flush()

    def _remember_candidate(self, address: PeerAddress) -> None:
        """Addresses heard by mDNS or remembered, kept for re-offering (bounded)."""
        if not address.key:
            return
        self._candidates.pop(address.key, None)
        self._candidates[address.key] = address
        while len(self._candidates) > MAX_CANDIDATES:
            del self._candidates[next(iter(self._candidates))]

    async def _candidate_loop(self) -> None:
        """While below the target number of links, offer the engine known peers again.

        The engine forgets an address whose dial failed (a partition, a laptop
        asleep); mDNS does not repeat an unchanged announcement, so without this
        a node cut off for a while would never link again after the network heals.
        """
        while True:
            await asyncio.sleep(self._config.candidate_interval)
            if self._discovery is not None:
                with contextlib.suppress(Exception):
                    await self._discovery.refresh()
            if self.engine.link_count() >= self._config.gossip.target_links:
                continue
            unlinked = [a for key, a in self._candidates.items() if key not in self._links]
            if unlinked:
                self.engine.add_candidates(unlinked, self._now())
                self._flush()

    # -- status -------------------------------------------------------------------

    def linked_addresses(self, *, min_minor: int = 0) -> list[PeerAddress]:
        """Where each linked peer listens (the host it linked from, the port it announced);
        min_minor: only peers that announced that spec minor version or a later one."""
        return [
            PeerAddress(key, link.remote_host, link.listen_port)
            for key, link in self._links.items()
            if link.listen_port and spec_minor(link.info.get("spec")) >= min_minor
        ]

    def with_network(self, status: NodeStatus) -> NodeStatus:
        """`status` with this node's network id and the nodes discovery skipped."""
        heard = () if self._discovery is None else self._discovery.other_networks
        return dataclasses.replace(
            status,
            network=self._config.link.network_id.decode("utf-8", "replace"),
            skipped=tuple(SkippedPeer(other.name, other.reason) for other in heard),
        )

    def peer_statuses(self) -> list[PeerStatus]:
        return [self._peer_status(view.key) for view in self.engine.peers()]

    def _peer_status(self, key: bytes) -> PeerStatus:
        view = self.engine.peer_view(key)
        link = self._links.get(key)
        # The newest profile held wins over the name the link announced (a rename).
        name = self._node.name_of(key, otherwise=link.name if link else "")
        address = f"{link.remote_host}:{link.listen_port or '?'}" if link else ""
        return PeerStatus(
            key=key,
            name=name,
            address=address
            or (f"{view.address.host}:{view.address.port}" if view and view.address else ""),
            linked=link is not None,
            in_sync=bool(view and view.in_sync),
            last_seen=now_ms() if link else 0,
            events_exchanged=(view.events_received + view.events_sent) if view else 0,
        )

    async def _sending_loop(self) -> None:
        """Tell the engine, for each link, whether bytes wait and how many the kernel took:
        a link that does not read gives its slot to one that wants it, and is closed."""
        while True:
            await asyncio.sleep(self._config.sending_interval)
            now = self._now()
            for key, link in list(self._links.items()):
                waiting, drained = link.sending()
                self.engine.link_sending(key, waiting, drained, now)
            self._flush()

    async def _counter_loop(self) -> None:
        while True:
            await asyncio.sleep(self._config.counter_interval)
            await self._save_counters()

    async def _save_counters(self) -> None:
        counts = self._transfers.take_exchanged()
        if counts:
            await self._node.add_exchanged(counts)

    # -- tasks --------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        if self._stopping:
            work.close()  # never started: stop() already closed what it would act on
            return
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("task %s failed: %r", task.get_name(), exc, exc_info=exc)


_frozen = False


def _freeze_startup_objects() -> None:
    """What exists when networking starts (modules, classes, the loaded index) lives as long
    as the process: keep it out of the collector's full passes, which otherwise stall the
    event loop for tens of ms every so often during a big catch-up. Once per process."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


def _load_index(items: list[tuple[int, bytes]]) -> ItemIndex:
    """The reconciliation index, sorted and summed (run on a thread)."""
    index = ItemIndex(items)
    if items:
        index.position((0, b""))  # a query merges what was added
    return index
