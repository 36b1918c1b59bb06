"""What the local API needs of the node, as a typing.Protocol (the Node satisfies it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from peernode.challenges.service import ChallengeService
from peernode.circles.service import CircleService
from peernode.clock import ShownKey
from peernode.files.service import FileService
from peernode.stream import Subscription
from peernode.views import FeedEntry, NodeStatus, PeerStatus, Profile
from protocol.event import Event


class ApiNode(Protocol):
    """The node as the API serves it (the store's sequence it reads from the store itself)."""

    @property
    def has_identity(self) -> bool: ...

    @property
    def circles(self) -> CircleService: ...

    @property
    def files(self) -> FileService: ...

    @property
    def challenges(self) -> ChallengeService: ...

    def profile_of(self, key: bytes) -> Profile: ...

    async def status(self) -> NodeStatus: ...

    async def connect(self, host: str, port: int) -> PeerStatus: ...

    async def find_event(self, ref: str | bytes, kind: str | None = None) -> Event: ...

    async def feed(
        self,
        channel: str | None = None,
        *,
        limit: int | None = None,
        before: ShownKey | None = None,
        after: ShownKey | None = None,
    ) -> list[FeedEntry]: ...

    async def publish(
        self,
        kind: str,
        *,
        circle: str,
        body: Mapping[str, Any],
        refs: Mapping[str, bytes] | None = None,
        created_at: int | None = None,
    ) -> Event: ...

    def subscribe(self) -> Subscription: ...

    def unsubscribe(self, subscription: Subscription) -> None: ...
