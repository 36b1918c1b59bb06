"""Finding stored events by reference: an id a person typed, or what refers to an event."""

from __future__ import annotations

from peernode.errors import BadInput
from peernode.problems import kind_noun
from peernode.storage.async_store import AsyncStore
from peernode.text import SHORT_ID
from protocol.event import Event, load_verified

HEX_DIGITS = "0123456789abcdef"


async def find_event(store: AsyncStore, ref: str | bytes, kind: str | None = None) -> Event:
    """The event whose id is `ref` (bytes, or hex: the whole id or ≥ 8 leading digits),
    of `kind` if given; BadInput says why there is no single such event."""
    prefix = ref.hex() if isinstance(ref, bytes) else ref.strip().lower()
    if not 8 <= len(prefix) <= 64 or prefix.strip(HEX_DIGITS):
        raise BadInput(f"{str(ref)[:70]!r} is not an event id (8 to 64 hex digits)")
    raws = await store.raw_by_id_prefix(prefix, 2)
    if len(raws) != 1:
        problem = "matches several events; give more digits" if raws else "is not here"
        raise BadInput(f"event {prefix} {problem}")
    event = load_verified(raws[0])
    if kind is not None and event.kind != kind:
        raise BadInput(
            f"{prefix[:SHORT_ID]} is the id of {kind_noun(event.kind)}, not of {kind_noun(kind)}:"
            " check which id you copied"
        )
    return event


async def latest_referring(store: AsyncStore, target: bytes, name: str, author: bytes) -> int:
    """The newest created_at of `author`'s events referring to `target` as `name` (or 0)."""
    events = (load_verified(raw) for raw in await store.referring(target, name))
    return max((e.created_at for e in events if e.author == author), default=0)
