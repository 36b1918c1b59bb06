"""peernode/leave@1: I no longer take part in this circle."""

from __future__ import annotations

from typing import Final

from protocol.kinds.join import check_membership
from protocol.kinds.registry import KindSpec, register

SPEC: Final = register(
    KindSpec(
        name="peernode/leave@1",
        needs_circle=True,
        refs=frozenset(),
        check_body=check_membership,
        summary="I leave this circle; body: message?",
    )
)
