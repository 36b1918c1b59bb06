"""Settings of the local API, built at the CLI edge (or by a test) and passed down."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from protocol.gossip.config import PUSH_BURST, PUSH_RATE, SEND_SHARE

LOOPBACK: Final = ("127.0.0.1", "::1")
"""The API listens here and nowhere else."""


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """How the local API runs.

    port: 0 = any free port (the node file and `peernode api url` say which).
    post_rate, post_burst: events per second a token may post, sustained and at once;
    below what the node may push to a peer, so a script cannot get the node's links
    cut for flooding.
    page_limit: the most events one page or one stream batch holds.
    send_timeout: a stream client that has not taken a message for this long has
    fallen behind: it gets an overflow message and the stream closes.
    subscribe_timeout: how long a new stream waits for its subscribe message.
    idempotency_keys: the idempotency keys remembered per token (the oldest go first).
    idempotency_hours: how long a key is remembered (also across restarts of the node).
    max_streams: the streams open at once (each holds a socket and a subscription).
    """

    port: int = 0
    post_rate: float = 10.0
    post_burst: int = 50
    page_limit: int = 1000
    send_timeout: float = 10.0
    subscribe_timeout: float = 10.0
    idempotency_keys: int = 1000
    idempotency_hours: float = 24.0
    max_streams: int = 64

    def __post_init__(self) -> None:
        if self.post_rate > PUSH_RATE * SEND_SHARE or self.post_burst > PUSH_BURST * SEND_SHARE:
            raise ValueError("the API's post rate must stay below the gossip push budget")
