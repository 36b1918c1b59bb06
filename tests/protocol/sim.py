"""Deterministic swarm simulator: many GossipEngines, one fake clock, a lossy seeded network.

Everything random comes from one `random.Random(seed)`, so a run is a pure function of its
seed and of the calls made on the Swarm. The network:

- a link is one connection between two nodes, with FIFO delivery per direction (a WebSocket
  over TCP) unless `Net.reorder` is set; each message is lost with probability `Net.loss`
  and delayed by a uniform draw from `Net.delay`;
- Dial succeeds after `Net.connect` latency unless the nodes are partitioned, the target is
  gone, or the two already share a link (the real shell keeps one link per key);
- `partition(groups)` cuts every link across groups and drops messages across them until
  `heal()`; `cut(a, b)` cuts one link. The side that closes a link sees link_down at once,
  the other side one delay later;
- Verify runs the real `decode_event` after `Net.verify_delay`, or with `trusted=True` looks
  the raw up in the catalogue of events this swarm created (a cheap path for big runs; bytes
  the swarm never created are rejected either way);
- discovery is mDNS-like: a new node learns `discovery` random addresses (all when None) and
  every `announce_interval` each node hears a few more.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from protocol import wire
from protocol.errors import ProtocolError
from protocol.event import Event, create_event, decode_event
from protocol.gossip import Close, Dial, GossipConfig, GossipEngine, Send, SendStored, Verify
from protocol.identity import SigningKey
from protocol.reconcile import ItemIndex

BASE_MS = 1_767_225_600_000
PORT = 7000


@dataclass(frozen=True)
class Net:
    loss: float = 0.0
    delay: tuple[float, float] = (0.005, 0.05)
    connect: tuple[float, float] = (0.01, 0.1)
    verify_delay: float = 0.002
    reorder: bool = False


@dataclass
class Node:
    idx: int
    key: SigningKey
    address: wire.PeerAddress
    engine: GossipEngine
    index: ItemIndex
    store: dict[bytes, bytes] = field(default_factory=dict)
    alive: bool = True
    started: bool = False
    links: dict[int, int] = field(default_factory=dict)  # peer idx -> connection id
    wake: float = float("inf")
    copies: int = 0  # event payloads received
    delivered: int = 0  # events stored that came from peers
    reverified: int = 0  # events handed to Verify although already stored (dedup failed)
    closes: list[tuple[int | None, str]] = field(default_factory=list)

    @property
    def pub(self) -> bytes:
        return self.key.public_key


@dataclass
class Conn:
    id: int
    a: int  # dialer
    b: int
    last: dict[int, float] = field(default_factory=dict)  # receiver -> last delivery time


class BoundViolation(AssertionError):
    pass


class Swarm:
    def __init__(
        self,
        n: int = 0,
        *,
        seed: int = 1,
        config: GossipConfig | None = None,
        net: Net | None = None,
        trusted: bool = False,
        discovery: int | None = None,
        announce_interval: float = 60.0,
        start_spread: float = 1.0,
    ) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.config = config or GossipConfig()
        self.net = net or Net()
        self.trusted = trusted
        self.discovery = discovery
        self.announce_interval = announce_interval
        self.now = 0.0
        self.nodes: list[Node] = []
        self.by_key: dict[bytes, int] = {}
        self.conns: dict[tuple[int, int], Conn] = {}
        self.groups: dict[int, int] | None = None
        self.catalog: dict[bytes, Event] = {}  # raw -> event, every event created here
        self.published: dict[bytes, int] = {}  # id -> publishing node
        self.max_links_seen = 0
        self.messages = 0
        self._queue: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = 0
        self._conn_ids = 0
        self._posts = 0
        self.on_send: Callable[[int, int, bytes], None] | None = None
        self.on_deliver: Callable[[int, int, bytes], None] | None = None
        for _ in range(n):
            self.add_node(start=self.rng.uniform(0, start_spread))
        self.at(announce_interval, self._announce)

    # -- scheduling ----------------------------------------------------------------------

    def at(self, when: float, fn: Callable[..., None], *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (max(when, self.now), self._seq, fn, args))

    def run_until(self, t: float) -> None:
        queue = self._queue
        while queue and queue[0][0] <= t:
            when, _, fn, args = heapq.heappop(queue)
            self.now = when
            fn(*args)
        self.now = max(self.now, t)

    def run_for(self, dt: float) -> None:
        self.run_until(self.now + dt)

    def run_until_true(self, check: Callable[[], bool], timeout: float, step: float = 1.0) -> bool:
        end = self.now + timeout
        while self.now < end:
            if check():
                return True
            self.run_for(step)
        return check()

    # -- nodes ---------------------------------------------------------------------------

    def add_node(self, *, start: float | None = None, candidates: bool = True) -> Node:
        idx = len(self.nodes)
        seed = hashlib.sha256(b"sim-node %d %d" % (self.seed, idx)).digest()
        key = SigningKey.from_seed(seed)
        host = f"10.{idx // 65536}.{idx // 256 % 256}.{idx % 256}"
        address = wire.PeerAddress(key.public_key, host, PORT)
        index = ItemIndex()
        engine = GossipEngine(
            self_key=key.public_key,
            index=index,
            rng=random.Random(self.rng.getrandbits(64)),
            now=self.now,
            config=self.config,
            self_address=address,
            name=f"node{idx}",
        )
        node = Node(idx, key, address, engine, index)
        self.nodes.append(node)
        self.by_key[key.public_key] = idx
        when = self.now if start is None else start
        if candidates:
            self.at(when, self._discover, idx)
        self.at(when, self._run, idx)
        return node

    def _discover(self, idx: int) -> None:
        # Like mDNS: only nodes already up answer.
        self.nodes[idx].started = True
        others = [n.address for n in self.nodes if n.idx != idx and n.alive and n.started]
        if self.discovery is not None:
            others = self.rng.sample(others, min(self.discovery, len(others)))
        self.nodes[idx].engine.add_candidates(others, self.now)
        self._run(idx)

    def _announce(self) -> None:
        # mDNS re-announcements: every node hears a few random live addresses again.
        alive = [n for n in self.nodes if n.alive and n.started]
        for node in alive:
            heard = self.rng.sample(alive, min(4, len(alive)))
            node.engine.add_candidates([h.address for h in heard if h is not node], self.now)
            self._run(node.idx)
        self.at(self.now + self.announce_interval, self._announce)

    def post(self, idx: int, text: str | None = None) -> Event:
        """Node `idx` posts a new note now and publishes it."""
        node = self.nodes[idx]
        self._posts += 1
        event = create_event(
            node.key,
            kind="peernode/note@1",
            circle="lobby",
            body={"text": text or f"note {self._posts} from {idx}"},
            created_at=BASE_MS + int(self.now * 1000),
        )
        self.catalog[event.raw] = event
        self.published[event.id] = idx
        node.store[event.id] = event.raw
        node.engine.publish([event], self.now)
        self._run(idx)
        return event

    def preload(self, idx: int, events: list[Event]) -> None:
        """Put events in a node's store and index before it starts (a node with history)."""
        node = self.nodes[idx]
        for event in events:
            self.catalog[event.raw] = event
            node.store[event.id] = event.raw
            node.index.add(event.created_at, event.id)

    def kill(self, idx: int) -> None:
        node = self.nodes[idx]
        node.alive = False
        for peer in list(node.links):
            self._drop_conn(idx, peer, remote_delay=self._delay())

    # -- the engine's actions ------------------------------------------------------------

    def _run(self, idx: int) -> None:
        node = self.nodes[idx]
        if not node.alive:
            return
        for action in node.engine.actions():
            if isinstance(action, Send):
                self._send(idx, action.peer, action.data)
            elif isinstance(action, Dial):
                self.at(self.now + self.rng.uniform(*self.net.connect), self._connect, idx, action)
            elif isinstance(action, Close):
                self._close(idx, action)
            elif isinstance(action, Verify):
                self.at(self.now + self.net.verify_delay, self._verify, idx, action)
            elif isinstance(action, SendStored):
                raws = action.raws + [node.store[i] for i in action.ids if i in node.store]
                for frame in wire.events_frames(raws, self.config.max_frame_bytes):
                    self._send(idx, action.peer, frame)
        count = len(node.links)
        if count > self.config.max_links or node.engine.link_count() > self.config.max_links:
            raise BoundViolation(f"node {idx} has {count} links at t={self.now:.3f}")
        self.max_links_seen = max(self.max_links_seen, count)
        deadline = node.engine.get_timer()
        if deadline is not None and deadline < node.wake:
            node.wake = deadline
            self.at(deadline, self._wake, idx, deadline)

    def _wake(self, idx: int, deadline: float) -> None:
        node = self.nodes[idx]
        if node.wake != deadline or not node.alive:
            return
        node.wake = float("inf")
        node.engine.handle_timer(self.now)
        self._run(idx)

    def _delay(self) -> float:
        return self.rng.uniform(*self.net.delay)

    def _send(self, src: int, peer_key: bytes, data: bytes) -> None:
        dst = self.by_key.get(peer_key)
        if len(data) > self.config.max_frame_bytes:  # the secure channel would refuse it
            raise AssertionError(f"node {src} sent a {len(data)}-byte message")
        if dst is None or dst not in self.nodes[src].links:
            return
        conn = self.conns.get(_pair(src, dst))
        if conn is None or conn.id != self.nodes[src].links[dst]:
            return
        if self.rng.random() < self.net.loss:
            return
        self.messages += 1
        if self.on_send is not None:
            self.on_send(src, dst, data)
        when = self.now + self._delay()
        if not self.net.reorder:
            when = max(when, conn.last.get(dst, 0.0))
        conn.last[dst] = max(when, conn.last.get(dst, 0.0))
        self.at(when, self._deliver, src, dst, conn.id, data)

    def _deliver(self, src: int, dst: int, conn_id: int, data: bytes) -> None:
        node = self.nodes[dst]
        if node.links.get(src) != conn_id or not node.alive or not self._reachable(src, dst):
            return  # the link was cut (or replaced) under this message
        if self.on_deliver is not None:
            self.on_deliver(src, dst, data)
        if data[:2] == b"\x92\x01":  # an Events frame: count the payload copies
            msg = wire.decode(data)
            assert isinstance(msg, wire.Events)
            node.copies += len(msg.raws)
        node.engine.receive(self.nodes[src].pub, data, self.now)
        self._run(dst)

    def inject(self, src: int, dst: int, data: bytes) -> None:
        """Deliver arbitrary bytes from `src` to `dst` over their link, as if `src` sent them."""
        conn = self.conns[_pair(src, dst)]
        self.at(self.now, self._deliver, src, dst, conn.id, data)

    def _connect(self, src: int, dial: Dial) -> None:
        node = self.nodes[src]
        address = dial.address
        if address.key:
            dst = self.by_key.get(address.key)
        else:
            dst = next((n.idx for n in self.nodes if n.address.host == address.host), None)
        ok = (
            node.alive
            and dst is not None
            and dst != src
            and self.nodes[dst].alive
            and self._reachable(src, dst)
            and _pair(src, dst) not in self.conns
        )
        if not ok or dst is None:
            node.engine.dial_failed(address, self.now)
            self._run(src)
            return
        self._conn_ids += 1
        self.conns[_pair(src, dst)] = Conn(self._conn_ids, src, dst)
        node.links[dst] = self._conn_ids
        other = self.nodes[dst]
        other.links[src] = self._conn_ids
        node.engine.link_up(other.pub, self.now, outbound=True, address=address)
        # Like the shell: the remote host, with the listening port the handshake announced.
        other.engine.link_up(node.pub, self.now, outbound=False, address=node.address)
        self._run(src)
        self._run(dst)

    def _close(self, idx: int, action: Close) -> None:
        peer = self.by_key.get(action.peer)
        self.nodes[idx].closes.append((peer, action.reason))
        if peer is not None and peer in self.nodes[idx].links:
            self._drop_conn(idx, peer, remote_delay=self._delay())
        else:  # refused before the sim registered it, or already gone: just report it down
            self.at(self.now, self._link_down, idx, action.peer, None)

    def _drop_conn(self, a: int, b: int, *, remote_delay: float) -> None:
        conn_id = self.nodes[a].links.pop(b, None)
        self.at(self.now, self._link_down, a, self.nodes[b].pub, conn_id)
        conn = self.conns.pop(_pair(a, b), None)
        if conn is None:
            return  # the other side closed it first and has been told already
        # A graceful close: what was sent before it still arrives, then the close.
        when = max(self.now + remote_delay, conn.last.get(b, 0.0)) + 1e-6
        self.at(when, self._link_down, b, self.nodes[a].pub, conn.id)

    def _link_down(self, idx: int, peer_key: bytes, conn_id: int | None) -> None:
        node = self.nodes[idx]
        peer = self.by_key.get(peer_key)
        if conn_id is not None and peer is not None:
            if node.links.get(peer) not in (conn_id, None):
                return  # a newer link to the same peer is up: this report is stale
            node.links.pop(peer, None)
        if node.alive:
            node.engine.link_down(peer_key, self.now)
            self._run(idx)

    def _verify(self, idx: int, action: Verify) -> None:
        node = self.nodes[idx]
        if not node.alive:
            return
        good: list[Event] = []
        bad = 0
        for raw in action.raws:
            event = self._check(raw)
            if event is not None and event.id in node.store:
                node.reverified += 1
            if event is None:
                bad += 1
            else:
                if event.id not in node.store:
                    node.store[event.id] = raw
                    node.delivered += 1
                good.append(event)
        node.engine.stored(action.peer, good, self.now)
        if bad:
            node.engine.rejected(action.peer, bad, self.now)
        self._run(idx)

    def _check(self, raw: bytes) -> Event | None:
        if self.trusted:
            return self.catalog.get(raw)
        try:
            return decode_event(raw)
        except ProtocolError:
            return None

    # -- network faults ------------------------------------------------------------------

    def partition(self, groups: list[list[int]]) -> None:
        self.groups = {idx: g for g, members in enumerate(groups) for idx in members}
        for a, b in list(self.conns):
            if not self._reachable(a, b):
                self.cut(a, b)

    def heal(self) -> None:
        self.groups = None

    def cut(self, a: int, b: int) -> None:
        """Break the link between a and b: each side notices after a network delay."""
        conn = self.conns.pop(_pair(a, b), None)
        if conn is None:
            return
        for x, y in ((a, b), (b, a)):
            self.nodes[x].links.pop(y, None)
            self.at(self.now + self._delay(), self._link_down, x, self.nodes[y].pub, conn.id)

    def _reachable(self, a: int, b: int) -> bool:
        return self.groups is None or self.groups.get(a, -1) == self.groups.get(b, -1)

    # -- measurements --------------------------------------------------------------------

    def holders(self, event_id: bytes) -> int:
        return sum(1 for n in self.nodes if n.alive and event_id in n.store)

    def all_have(self, ids: list[bytes] | None = None) -> bool:
        wanted = list(self.published) if ids is None else ids
        return all(i in n.store for n in self.nodes if n.alive for i in wanted)

    def copies_per_delivery(self) -> float:
        delivered = sum(n.delivered for n in self.nodes)
        return sum(n.copies for n in self.nodes) / max(1, delivered)

    def reset_counters(self) -> None:
        for node in self.nodes:
            node.copies = node.delivered = 0


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)
