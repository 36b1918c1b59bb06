"""Errors of the wire protocol, split by who is at fault."""

from __future__ import annotations


class ProtocolError(Exception):
    """Base of every error raised by the protocol package."""


class LocalProtocolError(ProtocolError):
    """We misused the API (a bug or bad input on our side); nothing was sent."""


class RemoteProtocolError(ProtocolError):
    """The bytes we received break the protocol; the sender is at fault."""


class DecodeError(RemoteProtocolError):
    """Bytes that are not a well-formed message within the limits."""


class InvalidEvent(RemoteProtocolError):
    """An event that is well-formed msgpack but breaks a rule of the format.

    `field` names the offending part (for example ``body.text`` or ``signature``)
    so a person or a client in another language can see exactly what failed.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
