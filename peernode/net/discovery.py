"""Find other peernode nodes on the local network with mDNS / DNS-SD (no setup, no server).

Each node registers one `_peernode._tcp.local.` service and browses for the others; each
one found is reported as a `PeerHint` (see records.py: what a record says, checked, and
unauthenticated). See docs/discovery.md for the record format and behaviour.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Final, Self, TypeAlias

from zeroconf import (
    BadTypeInNameException,
    DNSQuestionType,
    InterfaceChoice,
    IPVersion,
    ServiceStateChange,
    Zeroconf,
    current_time_millis,
)
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from peernode.net import netinfo
from peernode.net.records import (
    PROTOCOL_VERSION,
    OtherNetwork,
    PeerHint,
    hint_from_record,
    instance_label,
    other_network,
    truncate_utf8,
    txt_properties,
)
from protocol.handshake import DEFAULT_NETWORK_ID, MAX_NETWORK_ID
from protocol.identity import PUBLIC_KEY_BYTES, fingerprint

__all__ = [
    "PROTOCOL_VERSION",
    "SERVICE_TYPE",
    "Discovery",
    "Interfaces",
    "OtherNetwork",
    "PeerHint",
    "hint_from_record",
    "instance_label",
]

log = logging.getLogger(__name__)

SERVICE_TYPE: Final = "_peernode._tcp.local."

RESOLVE_TIMEOUT: Final = 3.0
"""Seconds to wait for a service's SRV, TXT and address records."""

BACKFILL_DELAY: Final = 1.0
"""Seconds between looks for services that were ignored at the cap, once slots free up."""

_TYPE_PTR: Final = 12  # DNS record type and class numbers (RFC 1035)
_CLASS_IN: Final = 1


Callback: TypeAlias = Callable[[PeerHint], None]
Interfaces: TypeAlias = InterfaceChoice | Sequence[str | int]
"""`InterfaceChoice.All` / `.Default`, or addresses (IPv4 and IPv6) and IPv6 interface indexes."""


def _can_update_interfaces(azc: AsyncZeroconf) -> bool:
    """Whether zeroconf can rebind to changed interfaces in place (recent releases can)."""
    return hasattr(azc, "async_update_interfaces")


class Discovery:
    """Announce this node and report the others, as an async context manager.

    `on_found` runs when a peer appears, its hint changes or it announces itself under a
    new host name (it started again); `on_lost` when it says goodbye or its records
    expire. Both run on the event loop and must not block; exceptions they raise are
    logged and swallowed. At most `max_peers` peers are tracked (known plus
    being resolved); further ones are ignored until a slot frees up.
    """

    def __init__(
        self,
        *,
        public_key: bytes,
        port: int,
        name: str,
        on_found: Callback,
        on_lost: Callback | None = None,
        interfaces: Interfaces = InterfaceChoice.All,
        ip_version: IPVersion = IPVersion.V4Only,
        max_peers: int = 256,
        resolve_timeout: float = RESOLVE_TIMEOUT,
        service_type: str = SERVICE_TYPE,
        network_id: bytes = DEFAULT_NETWORK_ID,
    ) -> None:
        if len(public_key) != PUBLIC_KEY_BYTES:
            raise ValueError(f"public_key must be {PUBLIC_KEY_BYTES} bytes")
        if len(network_id) > MAX_NETWORK_ID:
            raise ValueError(f"network_id is at most {MAX_NETWORK_ID} bytes")
        if not 0 < port < 65536:
            raise ValueError(f"port out of range: {port}")
        if max_peers < 0:
            raise ValueError("max_peers must not be negative")
        self._type = service_type  # another type only to isolate tests from real nodes
        self._public_key = public_key
        self._network_id = network_id
        self._port = port
        self._display_name = truncate_utf8(name.strip()) or "peer"
        self._wanted_instance = instance_label(self._display_name, public_key)
        self._on_found = on_found
        self._on_lost = on_lost
        # zeroconf only recognises an explicit choice when it is a list
        self._interfaces: InterfaceChoice | list[str | int] = (
            interfaces if isinstance(interfaces, InterfaceChoice) else list(interfaces)
        )
        self._ip_version = ip_version
        self._max_peers = max_peers
        self._resolve_timeout = resolve_timeout
        # Per process, so two nodes sharing a key (or a squatter) never merge address records.
        self._server = f"pn-{fingerprint(public_key)[:4]}-{secrets.token_hex(3)}.local."

        self._azc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._info: AsyncServiceInfo | None = None
        self._registered = False
        self._hints: dict[str, PeerHint] = {}
        self._servers: dict[str, str] = {}  # key -> the host name its SRV record named
        self._others: dict[str, OtherNetwork] = {}  # skipped: announced another network id
        self._resolving: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()
        self._background: set[asyncio.Future[object]] = set()
        self._cap_logged = False
        self._ignored_some = False
        self._backfill: asyncio.TimerHandle | None = None
        self._snapshot: frozenset[str] = frozenset()
        self._lock = asyncio.Lock()

    # --- public API --------------------------------------------------------------------------

    @property
    def instance(self) -> str:
        """Our DNS-SD instance label (may carry a `-2` suffix if the name was taken)."""
        info = self._info
        if info is None:
            return self._wanted_instance
        return info.name[: -len(self._type) - 1]

    @property
    def peers(self) -> tuple[PeerHint, ...]:
        """The peers currently known."""
        return tuple(self._hints.values())

    @property
    def other_networks(self) -> tuple[OtherNetwork, ...]:
        """Nodes heard that announced another network id: skipped, as they cannot link."""
        return tuple(self._others.values())

    @property
    def running(self) -> bool:
        return self._azc is not None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Register our service, then browse for the others."""
        async with self._lock:
            if self._azc is not None:
                raise RuntimeError("Discovery already started")
            self._snapshot = self._address_snapshot()
            await self._start_zeroconf()

    async def stop(self) -> None:
        """Unregister (sends goodbye packets), stop browsing, close the sockets. Idempotent."""
        async with self._lock:
            await self._stop_zeroconf(goodbye=True)
            self._hints.clear()
            self._servers.clear()

    async def announce(self) -> None:
        """Multicast our records again (e.g. after a link came back); waits until sent."""
        azc, info = self._azc, self._info
        if azc is None or info is None or not self._registered:
            return
        await (await azc.async_update_service(info))

    async def refresh(self) -> bool:
        """Catch up with interface changes; call it periodically (e.g. every 30 s).

        Does nothing unless the set of addresses on usable (up, with carrier) interfaces
        changed since the last call. Then the zeroconf sockets are reconciled with the
        current interfaces, our address records are updated and everything is announced
        again. Returns whether anything was done.
        """
        async with self._lock:
            if self._azc is None:
                return False
            snapshot = self._address_snapshot()
            if snapshot == self._snapshot:
                return False
            log.info(
                "mDNS: usable addresses changed from %s to %s",
                sorted(self._snapshot),
                sorted(snapshot),
            )
            self._snapshot = snapshot
            if _can_update_interfaces(self._azc):
                await self._azc.async_update_interfaces(self._zeroconf_interfaces())
                await self._republish()
            else:
                await self._recreate()
            return True

    async def announcement_heard(self, timeout: float = 3.0) -> bool:  # noqa: ASYNC109
        """Whether a separate mDNS querier on the same interfaces can resolve our service.

        For `peernode doctor`: a False means the local stack cannot send and receive mDNS
        (sockets not bound, a firewall dropping UDP 5353, no multicast route). A True proves
        only this machine's side; other hosts may still be cut off by the network.
        """
        info = self._info
        if self._azc is None or info is None or not self._registered:
            return False
        try:
            probe = AsyncZeroconf(
                interfaces=self._zeroconf_interfaces(), ip_version=self._ip_version
            )
        except OSError as exc:
            log.info("mDNS self-check could not open sockets: %s", exc)
            return False
        try:
            heard = AsyncServiceInfo(self._type, info.name)
            ok = await heard.async_request(
                probe.zeroconf, timeout * 1000, question_type=DNSQuestionType.QM
            )
            key = (heard.properties.get(b"k") or b"").decode("ascii", "replace")
            return ok and heard.port == self._port and key == self._public_key.hex()
        except Exception:
            log.exception("mDNS self-check failed")
            return False
        finally:
            await probe.async_close()

    # --- zeroconf lifecycle ------------------------------------------------------------------

    async def _start_zeroconf(self) -> None:
        azc = AsyncZeroconf(interfaces=self._zeroconf_interfaces(), ip_version=self._ip_version)
        self._azc = azc
        try:
            info = self._make_info(
                f"{self._wanted_instance}.{self._type}", self._published_addresses()
            )
            self._info = info
            # allow_name_change: if the probe finds our name taken, zeroconf retries with
            # "<name>-2", "-3", ... itself; NonUniqueNameException only happens without it.
            announcing = await azc.async_register_service(info, allow_name_change=True)
            self._registered = True
            self._keep(announcing)
            if info.name.lower() != f"{self._wanted_instance}.{self._type}".lower():
                log.info(
                    "mDNS name %r was taken; registered as %r", self._wanted_instance, info.name
                )
            # Browse only now that our name is final, so "is it us?" has a stable answer.
            self._browser = AsyncServiceBrowser(
                azc.zeroconf, self._type, handlers=[self._on_service_state_change]
            )
        except BaseException:
            await self._stop_zeroconf(goodbye=False)
            raise

    async def _stop_zeroconf(self, *, goodbye: bool) -> None:
        azc, browser, info = self._azc, self._browser, self._info
        self._azc = self._browser = None
        if self._backfill is not None:
            self._backfill.cancel()
            self._backfill = None
        if azc is None:
            return
        registered, self._registered = self._registered, False
        try:
            if goodbye and registered and info is not None:
                try:
                    await (await azc.async_unregister_service(info))
                except Exception:
                    log.exception("mDNS: failed to send goodbye")
            if browser is not None:
                await browser.async_cancel()
            pending: list[asyncio.Future[Any]] = [*self._resolving.values(), *self._background]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            self._resolving.clear()
            self._dirty.clear()
            self._background.clear()
        finally:
            await azc.async_close()

    async def _recreate(self) -> None:
        """Fallback for zeroconf without async_update_interfaces: rebind everything."""
        await self._stop_zeroconf(goodbye=True)
        lost, self._hints = list(self._hints.values()), {}
        self._servers.clear()
        for hint in lost:  # we cannot tell who is still there until the new browse answers
            self._call(self._on_lost, hint)
        await self._start_zeroconf()

    async def _republish(self) -> None:
        azc, info = self._azc, self._info
        if azc is None or info is None or not self._registered:
            return
        addresses = self._published_addresses()
        if sorted(info.parsed_addresses()) != sorted(addresses):
            info = self._make_info(info.name, addresses)
            self._info = info
        await (await azc.async_update_service(info))

    def _make_info(self, name: str, addresses: list[str]) -> AsyncServiceInfo:
        return AsyncServiceInfo(
            self._type,
            name,
            port=self._port,
            properties=txt_properties(self._public_key, self._display_name, self._network_id),
            server=self._server,
            parsed_addresses=addresses,
        )

    def _zeroconf_interfaces(self) -> InterfaceChoice | list[str | int]:
        """What zeroconf binds to: our choice, except that "All" with IPv6 skips `::1`.

        zeroconf cannot multicast from `::1` (every send fails with ENETUNREACH and logs a
        warning), so for IPv6 we list IPv4 addresses and IPv6 interface indexes ourselves.
        """
        if self._interfaces is not InterfaceChoice.All or self._ip_version is IPVersion.V4Only:
            return self._interfaces
        chosen: list[str | int] = []
        for iface in netinfo.list_interfaces():
            if not iface.admin_up:
                continue
            if self._ip_version is not IPVersion.V6Only:
                chosen.extend(iface.ipv4)
            if not iface.is_loopback and any(":" in a for a in iface.addresses):
                with contextlib.suppress(OSError):
                    chosen.append(socket.if_nametoindex(iface.name))
        return chosen or InterfaceChoice.All

    def _address_snapshot(self) -> frozenset[str]:
        snapshot = netinfo.usable_addresses(ipv6=self._ip_version is not IPVersion.V4Only)
        if isinstance(self._interfaces, list):
            chosen = {a for a in self._interfaces if isinstance(a, str)}
            snapshot = snapshot & chosen
        return snapshot

    def _published_addresses(self) -> list[str]:
        """What our A/AAAA records say: the chosen addresses, else those of our interfaces.

        Addresses of interfaces without carrier are included: a pulled cable keeps its
        address and will be right again when it is plugged back in, whereas publishing
        127.0.0.1 meanwhile would point peers at themselves. Loopback is published only when
        there is no other address at all, so nodes on one offline machine still meet.
        """
        if isinstance(self._interfaces, list):
            chosen = [a for a in self._interfaces if isinstance(a, str)]
            if chosen:
                return chosen
        configured = netinfo.usable_addresses(
            ipv6=self._ip_version is not IPVersion.V4Only, need_carrier=False
        )
        found = {a.split("%", 1)[0] for a in configured}
        found = {a for a in found if not ipaddress.ip_address(a).is_link_local} or found
        outside = sorted(a for a in found if not ipaddress.ip_address(a).is_loopback)
        return outside or sorted(found) or ["127.0.0.1"]

    def _keep(self, awaitable: Awaitable[object]) -> None:
        """Hold a reference to a zeroconf background future so it is awaited on stop."""
        future = asyncio.ensure_future(awaitable)
        self._background.add(future)
        future.add_done_callback(self._background.discard)

    # --- browsing ----------------------------------------------------------------------------

    def _on_service_state_change(
        self,
        zeroconf: Zeroconf,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        try:
            self._handle_change(name, state_change)
        except Exception:  # never let one odd record break zeroconf's dispatch
            log.exception("mDNS: error handling %s of %r", state_change.name, name)

    def _is_own(self, key: str) -> bool:
        return self._info is not None and key == self._info.key

    def _handle_change(self, name: str, state_change: ServiceStateChange) -> None:
        key = name.lower()
        if self._azc is None or self._is_own(key) or not key.endswith(self._type.lower()):
            return
        if state_change is ServiceStateChange.Removed:
            task = self._resolving.pop(key, None)
            if task is not None:
                task.cancel()
            self._dirty.discard(key)
            self._others.pop(key, None)
            hint = self._hints.pop(key, None)
            self._servers.pop(key, None)
            if hint is not None:
                self._call(self._on_lost, hint)
            self._schedule_backfill()
            return
        if key in self._resolving:
            self._dirty.add(key)  # resolve again once the running resolution finishes
            return
        if key not in self._hints and len(self._hints) + len(self._resolving) >= self._max_peers:
            if not self._cap_logged:
                self._cap_logged = True
                log.warning(
                    "mDNS: tracking %d peers already (max_peers); ignoring new ones such as %r",
                    self._max_peers,
                    name,
                )
            else:
                log.debug("mDNS: peer cap reached, ignoring %r", name)
            self._ignored_some = True
            return
        self._start_resolving(key, name)

    def _start_resolving(self, key: str, name: str) -> None:
        self._resolving[key] = asyncio.ensure_future(self._resolve(key, name))

    def _schedule_backfill(self) -> None:
        """After a slot freed up, look again (debounced) at services ignored at the cap."""
        if self._ignored_some and self._backfill is None and self._azc is not None:
            self._backfill = asyncio.get_running_loop().call_later(
                BACKFILL_DELAY, self._run_backfill
            )

    def _run_backfill(self) -> None:
        self._backfill = None
        azc = self._azc
        free = self._max_peers - len(self._hints) - len(self._resolving)
        if azc is None or free <= 0:
            return
        now = current_time_millis()
        # The browser reported every PTR once; those we ignored are still in its cache.
        for record in azc.zeroconf.cache.async_all_by_details(self._type, _TYPE_PTR, _CLASS_IN):
            alias = getattr(record, "alias", None)  # PTR records point at an instance
            if not isinstance(alias, str) or record.is_expired(now):
                continue
            key = alias.lower()
            if key in self._hints or key in self._resolving or self._is_own(key):
                continue
            self._start_resolving(key, alias)
            free -= 1
            if free == 0:
                return
        self._ignored_some = False  # everything left in the cache is being tracked

    async def _resolve(self, key: str, name: str) -> None:
        try:
            while True:
                self._dirty.discard(key)
                resolved, hint, server = await self._resolve_once(name)
                if resolved:  # a timeout says nothing new: keep what we had
                    self._apply(key, hint, server)
                if key not in self._dirty:
                    return
        finally:
            if self._resolving.get(key) is asyncio.current_task():
                del self._resolving[key]
                if key not in self._hints:  # nothing came of it: the slot is free again
                    self._schedule_backfill()

    async def _resolve_once(self, name: str) -> tuple[bool, PeerHint | None, str]:
        """(whether the records arrived, the hint they make or None if unacceptable, the
        host name the SRV record names)."""
        azc = self._azc
        if azc is None:
            return False, None, ""
        try:
            info = AsyncServiceInfo(self._type, name)
        except BadTypeInNameException:
            # A spoofed PTR may name an instance zeroconf refuses (a control character, a
            # label over 63 bytes, our type in other letter case). Not a peer; and False
            # keeps any hint a genuine record made under the same lower-cased key.
            log.debug("mDNS: skipping %r: not a valid instance name", name)
            return False, None, ""
        try:
            # QM: several nodes on one host share UDP port 5353, so a unicast (QU) reply
            # would land on whichever socket the kernel picks, not necessarily ours.
            found = await info.async_request(
                azc.zeroconf, self._resolve_timeout * 1000, question_type=DNSQuestionType.QM
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("mDNS: resolving %r failed", name)
            return False, None, ""
        if not found:
            log.debug("mDNS: %r did not resolve within %.1f s", name, self._resolve_timeout)
            return False, None, ""
        instance = name[: -len(self._type) - 1]
        if not self._note_network(name.lower(), instance, info.properties):
            return True, None, ""
        version = IPVersion.V4Only if self._ip_version is IPVersion.V4Only else IPVersion.All
        hint = hint_from_record(
            instance, info.properties, info.parsed_scoped_addresses(version), info.port
        )
        return True, hint, (info.server or "").lower()

    def _note_network(
        self, key: str, instance: str, properties: Mapping[bytes, bytes | None]
    ) -> bool:
        """False (and remembered, with the reason) when the record names another network."""
        other = other_network(instance, properties, self._network_id)
        if other is None:
            self._others.pop(key, None)
            return True
        if key not in self._others:
            log.info("mDNS: skipping %r: %s", instance, other.reason)
        self._others.pop(key, None)
        self._others[key] = other
        while len(self._others) > self._max_peers:
            del self._others[next(iter(self._others))]
        return False

    def _apply(self, key: str, hint: PeerHint | None, server: str) -> None:
        if self._azc is None or self._is_own(key):
            return
        old = self._hints.get(key)
        if hint is None:
            if old is not None:  # its records changed into something we do not accept
                del self._hints[key]
                self._servers.pop(key, None)
                self._call(self._on_lost, old)
            return
        # A node names a new host in its SRV record each time it starts: the same hint
        # under a new host name is a peer that started again, reported so it is dialled now.
        if hint != old or server != self._servers.get(key):
            self._hints[key] = hint
            self._servers[key] = server
            self._call(self._on_found, hint)

    @staticmethod
    def _call(callback: Callback | None, hint: PeerHint) -> None:
        if callback is None:
            return
        try:
            callback(hint)
        except Exception:
            log.exception("mDNS: discovery callback %r failed for %r", callback, hint.instance)
