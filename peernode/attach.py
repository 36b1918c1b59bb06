"""This process beside the node another one runs on this home: attach, take over, check."""

from __future__ import annotations

import logging
from collections.abc import Callable

from peernode.errors import NodeError
from peernode.home import Home, HomeLock, LockHolder
from peernode.views import Finding, NodeStatus, PeerStatus

__all__ = ["Attachment", "diagnose"]

log = logging.getLogger(__name__)


class Attachment:
    """Whether this process uses the node another one runs on this home, and talking
    to it through its control channel (peernode.net.control)."""

    def __init__(self, home: Home, lock: HomeLock) -> None:
        self._home = home
        self._lock = lock
        self.attached = False

    async def attach(self) -> NodeStatus:
        """Use the node another process runs on this home instead of starting one here:
        status and connect go to it through the control API, while notes are read from
        and written to the shared database, which that node watches and shares. Ends by
        itself when that node stops (status then says what this database holds).
        Its status, or NodeError."""
        from peernode.net import control

        answer = await control.call(self._home, "status")
        try:
            status = NodeStatus.from_json(answer)
        except (KeyError, TypeError, ValueError) as exc:
            raise NodeError(
                "the node running on this home answers in a way not understood"
            ) from exc
        self.attached = True
        return status

    def holder(self) -> LockHolder | None:
        """The other process running this home's networked node, or None when none is."""
        return self._lock.holder()

    async def take_over(self) -> None:
        """Ask the `peernode serve` running on this home to stop, and wait until it has."""
        from peernode.net import control

        await control.ask_to_stop(self._home)

    async def status(self) -> NodeStatus | None:
        """The running node's status while attached; None when not (or no longer)."""
        if not self.attached:
            return None
        from peernode.net import control

        try:
            return NodeStatus.from_json(await control.call(self._home, "status"))
        except (control.NotRunning, KeyError, TypeError, ValueError):
            log.info("the node this process was attached to stopped")
            self.attached = False
            return None

    async def connect(self, host: str, port: int) -> PeerStatus:
        """Ask the running node to link to a peer by address."""
        from peernode.net import control

        answer = await control.call(self._home, "connect", {"host": host, "port": port})
        return PeerStatus.from_json(answer)


async def diagnose(
    status: NodeStatus | None,
    found: Callable[[Finding], None],
    step: Callable[[str], None],
    *,
    listen_seconds: float | None = None,
) -> bool:
    """The network check of `peernode doctor` (peernode.net.doctor), knowing the running
    node's status (None when none runs here); True when a peer is linked or heard."""
    from peernode.net import doctor

    seen = doctor.NodeSeen.from_status(status) if status is not None else None
    seconds = doctor.LISTEN_SECONDS if listen_seconds is None else listen_seconds
    return await doctor.diagnose(seen, found, step, listen_seconds=seconds)
