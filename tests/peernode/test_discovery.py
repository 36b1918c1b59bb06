"""Discovery in one process, over real mDNS on the loopback interface.

Multicast on `lo` works on Linux even though `lo` lacks the MULTICAST flag: the
sockets are bound with IP_MULTICAST_IF=127.0.0.1 and loop packets back. Every Discovery
and spoofer here is pinned to `interfaces=["127.0.0.1"]` so nothing is ever sent on a real
network interface. Each test uses its own service type, so other test runs on this machine
cannot interfere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from peernode.net import discovery as discovery_module
from peernode.net import netinfo
from peernode.net.discovery import SERVICE_TYPE, Discovery
from peernode.net.records import (
    MAX_ADDRESSES_PER_PEER,
    PeerHint,
    hint_from_record,
    instance_label,
    other_network,
)
from tests.support.waiting import eventually

LOOPBACK = ["127.0.0.1"]
STYPE = SERVICE_TYPE  # replaced per test, see below


@pytest.fixture(autouse=True)
def private_service_type(monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test browses its own service type, so concurrent test runs on `lo` (xdist
    workers, other suites starting nodes) cannot show up in its results."""
    stype = f"_pn{uuid.uuid4().hex[:8]}._tcp.local."
    monkeypatch.setitem(globals(), "STYPE", stype)
    return stype


class Recorder:
    def __init__(self) -> None:
        self.found: list[PeerHint] = []
        self.lost: list[PeerHint] = []

    def on_found(self, hint: PeerHint) -> None:
        self.found.append(hint)

    def on_lost(self, hint: PeerHint) -> None:
        self.lost.append(hint)

    def found_instances(self) -> set[str]:
        return {h.instance for h in self.found}

    def lost_instances(self) -> set[str]:
        return {h.instance for h in self.lost}


@contextlib.asynccontextmanager
async def running(*nodes: Discovery) -> AsyncIterator[None]:
    """Start several nodes concurrently (each start spends ~1.2 s probing its name)."""
    results = await asyncio.gather(*(n.start() for n in nodes), return_exceptions=True)
    try:
        for result in results:
            if isinstance(result, BaseException):
                raise result
        yield
    finally:
        await asyncio.gather(*(n.stop() for n in nodes))


def make_discovery(rec: Recorder, name: str, key: bytes | None = None, **kw: Any) -> Discovery:
    return Discovery(
        public_key=key or os.urandom(32),
        port=kw.pop("port", 7000),
        name=name,
        on_found=kw.pop("on_found", rec.on_found),
        on_lost=kw.pop("on_lost", rec.on_lost),
        interfaces=LOOPBACK,
        service_type=STYPE,
        **kw,
    )


def valid_txt(key: bytes | None = None, name: str = "spoof") -> dict[str, str]:
    return {"v": "1", "k": (key or os.urandom(32)).hex(), "n": name}


def spoof_info(label: str, properties: Mapping[str, str] | None) -> AsyncServiceInfo:
    return AsyncServiceInfo(
        STYPE,
        f"{label}.{STYPE}",
        port=4000,
        properties=dict(properties) if properties is not None else None,
        server=f"{label}.local.",
        parsed_addresses=LOOPBACK,
    )


async def spoof(
    azc: AsyncZeroconf, label: str, properties: Mapping[str, str] | None
) -> asyncio.Future[Any]:
    """Register a raw service (no probing) as a rogue/foreign responder would."""
    info = spoof_info(label, properties)
    return asyncio.ensure_future(
        await azc.async_register_service(info, cooperating_responders=True)
    )


def tag() -> str:
    return uuid.uuid4().hex[:8]


# --- end to end on loopback ------------------------------------------------------------------


async def test_two_nodes_find_each_other_ignore_themselves_and_say_goodbye() -> None:
    rec_a, rec_b = Recorder(), Recorder()
    key_a, key_b = os.urandom(32), os.urandom(32)
    a = make_discovery(rec_a, f"Ann {tag()}", key_a, port=7001)
    b = make_discovery(rec_b, f"Ben {tag()}", key_b, port=7002)
    async with running(a):
        async with running(b):
            await eventually(lambda: b.instance in rec_a.found_instances(), "a to find b")
            await eventually(lambda: a.instance in rec_b.found_instances(), "b to find a")
            (hint_b,) = [h for h in rec_a.found if h.instance == b.instance]
            assert hint_b.key_hint == key_b
            assert hint_b.port == 7002
            assert hint_b.addresses == ("127.0.0.1",)
            assert hint_b.name.startswith("Ben ")
            assert a.instance not in rec_a.found_instances()  # never ourselves
            assert b.instance not in rec_b.found_instances()
            assert await a.announcement_heard(timeout=3.0)
        # b has stopped: its goodbye packets make a drop it at once, not after the TTL.
        await eventually(lambda: b.instance in rec_a.lost_instances(), "b's goodbye to reach a")
        assert b.instance not in {h.instance for h in a.peers}
    assert not a.running
    assert not await a.announcement_heard(timeout=0.5)


async def crash(d: Discovery) -> None:
    """Stop as a killed process does: no goodbye (zeroconf's close would send one for
    every service still registered), so the others keep its records in their caches."""
    assert d._azc is not None
    assert d._info is not None
    d._azc.zeroconf.registry.async_remove(d._info)
    await d._stop_zeroconf(goodbye=False)


async def test_a_peer_started_again_without_goodbye_is_reported_again() -> None:
    """A node killed without goodbye leaves its records in the others' caches; when it
    starts again with the same hint, it is reported once more, so it is dialled at once."""
    rec_a = Recorder()
    key_b, name_b = os.urandom(32), f"Ben {tag()}"
    a = make_discovery(rec_a, f"Ann {tag()}", port=7001)
    b = make_discovery(Recorder(), name_b, key_b, port=7002)
    async with running(a):
        await b.start()
        await eventually(lambda: b.instance in rec_a.found_instances(), "a to find b")
        await crash(b)
        again = make_discovery(Recorder(), name_b, key_b, port=7002)
        async with running(again):
            assert again.instance == b.instance
            reports = lambda: [h for h in rec_a.found if h.instance == b.instance]  # noqa: E731
            await eventually(lambda: len(reports()) == 2, "a to hear b start again")
            assert reports()[0] == reports()[1]
            assert not rec_a.lost


async def test_nodes_of_two_networks_skip_each_other_and_say_why() -> None:
    rec_a, rec_b, rec_c = Recorder(), Recorder(), Recorder()
    a = make_discovery(rec_a, f"Ann {tag()}", port=7011)
    b = make_discovery(rec_b, f"Ben {tag()}", port=7012, network_id=b"lab-2")
    c = make_discovery(rec_c, f"Cai {tag()}", port=7013)  # the default network, like Ann
    async with running(a, b, c):
        await eventually(lambda: c.instance in rec_a.found_instances(), "a to find c")
        await eventually(lambda: len(a.other_networks) == 1, "a to hear b and skip it")
        await eventually(lambda: len(b.other_networks) == 2, "b to hear a and c and skip them")
        (skipped,) = a.other_networks
        assert skipped.instance == b.instance
        assert skipped.network == b"lab-2"
        assert skipped.reason == "it is on network 'lab-2', not ours, so the two cannot link"
        assert {o.network for o in b.other_networks} == {b"peernode-lan"}
        # never reported as peers, so never dialled
        assert b.instance not in rec_a.found_instances() | rec_c.found_instances()
        assert not rec_b.found


async def test_same_name_and_key_twice_gets_a_suffix() -> None:
    key, name = os.urandom(32), f"Twin {tag()}"
    rec = Recorder()
    async with make_discovery(rec, name, key) as first, make_discovery(rec, name, key) as second:
        assert first.instance == instance_label(name, key)
        assert second.instance == f"{first.instance}-2"


async def test_malformed_records_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="peernode.net")  # discovery and its records
    t = tag()
    good_key = os.urandom(32)
    bad: dict[str, dict[str, str] | None] = {
        f"nokey-{t}": {"v": "1", "n": "x"},
        f"shortkey-{t}": {"v": "1", "k": good_key.hex()[:63]},
        f"nonhex-{t}": {"v": "1", "k": "zz" * 32},
        f"longkey-{t}": {"v": "1", "k": good_key.hex() + "00"},
        f"v2-{t}": {"v": "2", "k": good_key.hex()},
        f"nov-{t}": {"k": good_key.hex()},
        f"notxt-{t}": None,
    }
    rec = Recorder()
    async with AsyncZeroconf(interfaces=LOOPBACK) as spoofer:
        sent = [await spoof(spoofer, label, props) for label, props in bad.items()]
        sent.append(await spoof(spoofer, f"good-{t}", valid_txt(good_key)))
        await asyncio.gather(*sent)
        async with make_discovery(rec, "Observer"):
            await eventually(lambda: f"good-{t}" in rec.found_instances(), "the valid record")

            def all_rejected() -> bool:
                logged = " ".join(r.getMessage() for r in caplog.records)
                return all(label in logged for label in bad)

            await eventually(all_rejected, "every malformed record to be looked at")
    assert not rec.found_instances() & set(bad)
    (good,) = [h for h in rec.found if h.instance == f"good-{t}"]
    assert good.key_hint == good_key


async def test_peer_cap_holds_against_a_flood(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="peernode.net.discovery")
    t, cap, flood = tag(), 5, 24
    labels = [f"flood{i}-{t}" for i in range(flood)]
    infos = {label: spoof_info(label, valid_txt()) for label in labels}
    rec = Recorder()
    async with AsyncZeroconf(interfaces=LOOPBACK) as spoofer:
        register = spoofer.async_register_service
        await asyncio.gather(
            *[await register(info, cooperating_responders=True) for info in infos.values()]
        )
        async with make_discovery(rec, "Capped", max_peers=cap) as d:

            def flood_processed() -> bool:
                ignored = {
                    label
                    for r in caplog.records
                    if "ignor" in r.getMessage()
                    for label in labels
                    if label in r.getMessage()
                }
                return len(ignored | rec.found_instances()) >= flood

            await eventually(flood_processed, "the whole flood to be seen")
            assert len(d.peers) == cap
            assert len(rec.found) == cap

            # Two tracked ones leave: their slots go to services that were ignored before.
            leaving = sorted(rec.found_instances())[:2]
            await asyncio.gather(
                *[await spoofer.async_unregister_service(infos[label]) for label in leaving]
            )
            await eventually(lambda: len(rec.found) == cap + 2, "ignored services to be picked up")
            assert rec.lost_instances() == set(leaving)
            assert len(d.peers) == cap
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "max_peers" in r.msg]
    assert len(warnings) == 1  # logged once, not once per spoofed record


async def test_callback_exceptions_do_not_stop_discovery(caplog: pytest.LogCaptureFixture) -> None:
    t = tag()
    calls: list[str] = []

    def explode(hint: PeerHint) -> None:
        calls.append(hint.instance)
        raise RuntimeError("callback bug")

    async with AsyncZeroconf(interfaces=LOOPBACK) as spoofer:
        await spoof(spoofer, f"one-{t}", valid_txt())
        async with make_discovery(Recorder(), "Robust", on_found=explode, on_lost=explode) as d:
            await eventually(lambda: f"one-{t}" in calls, "the first peer")
            await (await spoof(spoofer, f"two-{t}", valid_txt()))
            await eventually(lambda: f"two-{t}" in calls, "a peer found after a callback raised")
            assert {f"one-{t}", f"two-{t}"} <= {h.instance for h in d.peers}
    assert any("callback" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_refresh_in_place_keeps_peers(monkeypatch: pytest.MonkeyPatch) -> None:
    rec_a, rec_b = Recorder(), Recorder()
    a, b = make_discovery(rec_a, "Refresher"), make_discovery(rec_b, "Watcher")
    async with running(a, b):
        await eventually(lambda: a.instance in rec_b.found_instances(), "b to find a")
        assert not await a.refresh()  # nothing changed
        await a.announce()
        # Loopback "goes away" and comes back, as a link drop would look.
        monkeypatch.setattr(netinfo, "usable_addresses", lambda **kw: frozenset())
        assert await a.refresh()
        monkeypatch.undo()
        assert await a.refresh()
        assert not await a.refresh()
        assert a.running
        assert await a.announcement_heard()
        assert not rec_b.lost  # rebinding in place does not look like a departure
        assert b.instance in {h.instance for h in a.peers}


async def test_refresh_recreates_zeroconf_when_it_cannot_rebind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(discovery_module, "_can_update_interfaces", lambda azc: False)
    rec_a, rec_b = Recorder(), Recorder()
    a, b = make_discovery(rec_a, "Rebuilt"), make_discovery(rec_b, "Watcher")
    async with running(a, b):
        await eventually(lambda: a.instance in rec_b.found_instances(), "b to find a")
        await eventually(lambda: b.instance in rec_a.found_instances(), "a to find b")
        monkeypatch.setattr(a, "_address_snapshot", lambda: frozenset({"192.0.2.99"}))
        assert await a.refresh()
        assert b.instance in rec_a.lost_instances()  # our view was reset ...
        await eventually(lambda: len(rec_a.found) >= 2, "a to find b again")  # ... and rebuilt
        await eventually(lambda: a.instance in rec_b.lost_instances(), "b to hear a's goodbye")
        await eventually(lambda: len(rec_b.found) >= 2, "b to find the re-registered a")
        assert a.instance == instance_label("Rebuilt", a._public_key)


async def test_constructor_validates() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Discovery(public_key=b"short", port=1, name="x", on_found=print)
    with pytest.raises(ValueError, match="port"):
        Discovery(public_key=bytes(32), port=0, name="x", on_found=print)


# --- record validation (no network) ----------------------------------------------------------

KEY = bytes(range(32))


@pytest.mark.parametrize(
    ("properties", "ok"),
    [
        ({b"v": b"1", b"k": KEY.hex().encode(), b"n": b"Ann"}, True),
        ({b"V": b"1", b"K": KEY.hex().upper().encode()}, True),  # keys and hex case-insensitive
        ({}, False),
        ({b"v": b"2", b"k": KEY.hex().encode()}, False),
        ({b"k": KEY.hex().encode()}, False),
        ({b"v": b"1"}, False),
        ({b"v": b"1", b"k": None}, False),
        ({b"v": b"1", b"k": KEY.hex().encode()[:-1]}, False),
        ({b"v": b"1", b"k": b"g" * 64}, False),
        ({b"v": b"1", b"k": "é".encode() * 32}, False),
    ],
)
def test_hint_from_record_txt(properties: dict[bytes, bytes | None], ok: bool) -> None:
    hint = hint_from_record("x", properties, ["10.0.0.1"], 4000)
    assert (hint is not None) == ok
    if hint is not None:
        assert hint.key_hint == KEY


@pytest.mark.parametrize(
    ("net", "skipped"),
    [
        (None, False),  # a node before spec 1.0 announces none: tried, the handshake decides
        (b"peernode-lan", False),
        (b"lab-2", True),
        (b"", True),  # the empty network id is a network id too
    ],
)
def test_other_network_compares_the_announced_id(net: bytes | None, skipped: bool) -> None:
    txt: dict[bytes, bytes | None] = {b"v": b"1", b"k": KEY.hex().encode(), b"n": b"Ann"}
    if net is not None:
        txt[b"NET"] = net  # keys are case-insensitive
    other = other_network("ann-1", txt, b"peernode-lan")
    assert (other is not None) == skipped
    if other is not None:
        assert (other.name, other.network) == ("Ann", net)


def must(hint: PeerHint | None) -> PeerHint:
    assert hint is not None
    return hint


def test_hint_from_record_cleans_name_port_and_addresses() -> None:
    txt: dict[bytes, bytes | None] = {b"v": b"1", b"k": KEY.hex().encode()}
    evil = "\x1b[31mEve\u202e" + "é" * 100
    hint = hint_from_record("eve-1", {**txt, b"n": evil.encode()}, ["10.0.0.1"], 4000)
    assert hint is not None
    assert hint.name.startswith("[31mEve")
    assert "\x1b" not in hint.name
    assert "\u202e" not in hint.name
    assert len(hint.name.encode()) <= 63
    assert must(hint_from_record("anon-1", txt, ["10.0.0.1"], 4000)).name == "anon-1"
    assert hint_from_record("x", txt, ["10.0.0.1"], 0) is None
    assert hint_from_record("x", txt, ["10.0.0.1"], None) is None
    assert hint_from_record("x", txt, [], 4000) is None
    assert hint_from_record("x", txt, ["0.0.0.0", "224.0.0.251"], 4000) is None
    mixed = ["127.0.0.1", "fe80::1%eth0", "10.0.0.2", "10.0.0.1", "10.0.0.1"]
    assert must(hint_from_record("x", txt, mixed, 1)).addresses == (
        "10.0.0.1",
        "10.0.0.2",
        "fe80::1%eth0",
    )
    assert must(hint_from_record("x", txt, ["127.0.0.1"], 1)).addresses == ("127.0.0.1",)
    many = [f"10.0.1.{i}" for i in range(1, 100)]
    assert len(must(hint_from_record("x", txt, many, 1)).addresses) == MAX_ADDRESSES_PER_PEER


def test_instance_label() -> None:
    assert instance_label("Zoë Ünal!!", KEY).startswith("Zoe-Unal-")
    assert instance_label("   ", KEY).startswith("peer-")
    assert instance_label("日本語", KEY).startswith("peer-")
    long = instance_label("a" * 200, KEY)
    assert len(long) <= 49
    assert long.endswith(instance_label("", KEY)[-9:])


# --- netinfo ---------------------------------------------------------------------------------


def test_netinfo_lists_loopback() -> None:
    interfaces = netinfo.list_interfaces()
    (lo,) = [i for i in interfaces if i.is_loopback and "127.0.0.1" in i.addresses]
    assert lo.is_up
    assert "127.0.0.1" in netinfo.usable_addresses()
    assert "127.0.0.1" not in netinfo.usable_addresses(include_loopback=False)


def test_netinfo_fallback_works_without_linux_sources() -> None:
    fallback = netinfo._fallback_interfaces()
    assert fallback[0].is_loopback
    assert "127.0.0.1" in fallback[0].addresses


def test_default_port_free() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert not netinfo.default_port_free(port, "127.0.0.1")
    assert netinfo.default_port_free(port, "127.0.0.1")
