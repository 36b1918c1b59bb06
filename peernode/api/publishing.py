"""Publishing through the API: one path for every write, with its rate and idempotency keys.

Rules of this file:
- A token's writes run one at a time, so two tries with one Idempotency-Key post once;
  keys and answers are kept in the home (peernode.api.idempotency): also across restarts.
- A remembered key is answered before the rate is counted: a retry costs nothing.
- The key is bound to the method, path and body it was first used with; reusing it for
  another request is a 409, never a silent replay of the wrong answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable

import msgspec
from aiohttp import web

from peernode.api import convert
from peernode.api.config import ApiConfig
from peernode.api.errors import JSON, ApiError, bad_request
from peernode.api.guard import TOKEN_KEY
from peernode.api.idempotency import KeyBook
from peernode.api.limits import MAX_KEY_LENGTH, Bucket, Remembered
from peernode.api.models import Published
from peernode.api.port import ApiNode
from peernode.clock import now_ms
from peernode.errors import StorageError
from peernode.storage import AsyncStore
from protocol.event import Event

log = logging.getLogger(__name__)

Act = Callable[[bytes], Awaitable[Event]]
"""Publishes from the request body; returns the event signed."""


class Publisher:
    """Carries out writes for the handlers: rate, idempotency, the answer."""

    def __init__(self, node: ApiNode, store: AsyncStore, config: ApiConfig, keys: KeyBook) -> None:
        self._node = node
        self._store = store
        self._config = config
        self._keys = keys
        self._buckets: dict[str, Bucket] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def handle(self, request: web.Request, act: Act) -> web.Response:
        token = request[TOKEN_KEY].digest
        keys = self._keys
        body = await request.read()
        key = request.headers.get("Idempotency-Key")
        if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
            raise bad_request(f"an Idempotency-Key is 1 to {MAX_KEY_LENGTH} characters")
        fingerprint = hashlib.sha256(f"{request.method} {request.path}\n".encode() + body).digest()
        async with self._locks.setdefault(token, asyncio.Lock()):
            if key is not None and (seen := await asyncio.to_thread(keys.get, token, key)):
                return _replayed(seen, fingerprint)
            self._take(token)
            if not self._node.has_identity:
                raise ApiError(
                    409, "no_identity", "this node has no identity yet; run 'peernode init'"
                )
            event = await act(body)
            encoded = msgspec.json.encode(Published(await self._out(event)))
            if key is not None:
                await self._remember(token, key, Remembered(fingerprint, 201, encoded))
        return web.Response(status=201, body=encoded, content_type=JSON)

    async def _remember(self, token: str, key: str, answer: Remembered) -> None:
        """Keep the answer; if the home cannot take it now, the event is posted all the
        same (the key is then not kept: a retry would post again)."""
        try:
            await asyncio.to_thread(self._keys.put, token, key, answer)
        except StorageError as exc:
            log.warning("an idempotency key was not kept: %s", exc)

    async def _out(self, event: Event) -> convert.EventOut:
        row = await self._store.event_row(event.id)
        seq, received_at = (row.seq, row.received_at) if row is not None else (None, now_ms())
        name_of = self._node.profile_of
        return convert.event_out(
            event, lambda key: name_of(key).name, received_at=received_at, seq=seq
        )

    def _take(self, token: str) -> None:
        bucket = self._buckets.get(token)
        if bucket is None:
            bucket = self._buckets[token] = Bucket(self._config.post_rate, self._config.post_burst)
        wait = bucket.take()
        if wait > 0:
            raise ApiError(
                429, "rate_limited", f"this token posts too fast; try again in {wait:.1f} seconds"
            )


def _replayed(seen: Remembered, fingerprint: bytes) -> web.Response:
    if seen.request != fingerprint:
        raise ApiError(
            409,
            "idempotency_conflict",
            "this Idempotency-Key was used for another request; use a new key",
        )
    return web.Response(
        status=seen.status,
        body=seen.response,
        content_type=JSON,
        headers={"Idempotent-Replayed": "true"},
    )
