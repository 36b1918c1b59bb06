"""Who is familiar to this node: me, the members of my circles, peers from before."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from peernode.circles.model import CircleState, CircleSummary
from peernode.moderation.policy import Familiar

__all__ = ["Circles", "familiar_authors", "familiar_keys", "my_circles"]


class Circles(Protocol):
    """What of the study-circle service (node.circles) familiarity reads."""

    async def known(self) -> list[CircleSummary]: ...

    async def state(self, circle: str) -> CircleState: ...


async def my_circles(circles: Circles) -> tuple[set[str], set[bytes]]:
    """The circles I am a member of, and everyone in them (me included)."""
    slugs: set[str] = set()
    keys: set[bytes] = set()
    for circle in await circles.known():
        if circle.member:
            slugs.add(circle.slug)
            keys.update(member.key for member in (await circles.state(circle.slug)).members)
    return slugs, keys


async def familiar_keys(circles: Circles, remembered: Iterable[bytes], me: bytes) -> set[bytes]:
    """Peers with history: remembered (linked with before) or members of my circles.
    The network keeps link slots for them that strangers cannot take."""
    _, members = await my_circles(circles)
    keys = set(remembered) | members
    keys.discard(me)
    return keys


async def familiar_authors(
    circles: Circles, me: bytes | None, remembered_at_open: Iterable[bytes]
) -> Familiar:
    """Whose events are stored without a budget: me, the members of my circles, and the
    peers remembered when this node opened (linked with in an earlier run: a key that
    links now becomes familiar only at the next start, so fresh keys gain nothing)."""
    if me is None:
        return Familiar(frozenset(), frozenset())
    slugs, members = await my_circles(circles)
    authors = {me} | set(remembered_at_open) | members
    return Familiar(frozenset(authors), frozenset(slugs))
