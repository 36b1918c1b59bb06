"""The peernode secure channel: Noise XX bound to Ed25519 identities, as a sans-IO state machine."""

# Rules of this file:
# - No I/O and no clock: bytes and `now` come in, events and bytes go out.
# - The state only changes through _TRANSITIONS, and only after a step fully succeeded.
# - Sizes are checked before any cryptography runs; a frame is one WebSocket binary message.
# - Any failure caused by received bytes moves the channel to ERROR for good, and nothing
#   decrypted is ever returned from a failed call. Calling a method on a CLOSED or ERROR
#   channel is our bug: LocalProtocolError.

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum, auto
from types import MappingProxyType
from typing import Final, TypeAlias, TypeVar

import msgpack
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from protocol.errors import DecodeError, LocalProtocolError, ProtocolError, RemoteProtocolError
from protocol.identity import (
    PUBLIC_KEY_BYTES,
    SIGNATURE_BYTES,
    SigningKey,
    fingerprint,
    verify_signature,
)
from protocol.noise import DHLEN, TAGLEN, CipherState, HandshakeState, Role, public_bytes

__all__ = [
    "DEFAULT_MAX_FRAME_BYTES",
    "MAX_HANDSHAKE_MESSAGE",
    "PROLOGUE_PREFIX",
    "SIGNATURE_CONTEXT",
    "ChannelEvent",
    "ChannelState",
    "Established",
    "HandshakeError",
    "HandshakeMessage",
    "HandshakeTimeout",
    "InfoValue",
    "Payload",
    "PayloadError",
    "Role",
    "SecureChannel",
    "prologue",
]

PROLOGUE_PREFIX: Final = b"peernode/1\x00"
SIGNATURE_CONTEXT: Final = b"peernode-noise-static:"
PAYLOAD_VERSION: Final = 1
MAX_HANDSHAKE_MESSAGE: Final = 1024
DEFAULT_MAX_FRAME_BYTES: Final = 65535 - 16  # Noise's message limit, less the tag
DEFAULT_HANDSHAKE_TIMEOUT: Final = 10.0
MAX_NETWORK_ID: Final = 64
DEFAULT_NETWORK_ID: Final = b"peernode-lan"
"""The network id every node uses unless configured otherwise (ASCII, 12 bytes)."""
MAX_INFO_ENTRIES: Final = 8
MAX_INFO_KEY: Final = 32  # characters
MAX_INFO_STR: Final = 128  # UTF-8 bytes
_INT64_MIN: Final = -(2**63)
_UINT64_MAX: Final = 2**64 - 1
_MSG1_LEN: Final = DHLEN  # just the ephemeral key: message 1 carries no payload
_MSG2_OVERHEAD: Final = DHLEN + (DHLEN + TAGLEN) + TAGLEN  # e, encrypted s, payload tag

_T = TypeVar("_T")

InfoValue: TypeAlias = str | int | bool

# Limits for unpacking a payload: the largest string is an info value, the largest
# bin the signature, the largest map the info map; nothing else may appear.
_UNPACK_LIMITS: Final = {
    "max_str_len": MAX_INFO_STR,
    "max_bin_len": SIGNATURE_BYTES,
    "max_array_len": 0,
    "max_map_len": MAX_INFO_ENTRIES,
    "max_ext_len": 0,
}


class HandshakeError(RemoteProtocolError):
    """The peer did not complete a valid, expected handshake in time."""


class HandshakeTimeout(HandshakeError):
    """No established channel within the handshake timeout."""


class PayloadError(HandshakeError):
    """A handshake payload that decodes but breaks a rule; `field` names the culprit."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"handshake payload {field}: {reason}")
        self.field = field
        self.reason = reason


class ChannelState(Enum):
    START = auto()  # initiator, before start()
    AWAIT_MSG1 = auto()  # responder, waiting for -> e
    AWAIT_MSG2 = auto()  # initiator, waiting for <- e, ee, s, es
    AWAIT_MSG3 = auto()  # responder, waiting for -> s, se
    ESTABLISHED = auto()
    CLOSED = auto()
    ERROR = auto()


class _Step(Enum):
    START = auto()
    RECEIVE = auto()
    SEND = auto()


# Every state may also end in CLOSED (close()) or ERROR (any failure); those two are final.
_TRANSITIONS: Final[Mapping[tuple[ChannelState, _Step], ChannelState]] = MappingProxyType(
    {
        (ChannelState.START, _Step.START): ChannelState.AWAIT_MSG2,
        (ChannelState.AWAIT_MSG1, _Step.RECEIVE): ChannelState.AWAIT_MSG3,
        (ChannelState.AWAIT_MSG2, _Step.RECEIVE): ChannelState.ESTABLISHED,
        (ChannelState.AWAIT_MSG3, _Step.RECEIVE): ChannelState.ESTABLISHED,
        (ChannelState.ESTABLISHED, _Step.RECEIVE): ChannelState.ESTABLISHED,
        (ChannelState.ESTABLISHED, _Step.SEND): ChannelState.ESTABLISHED,
    }
)
_TERMINAL: Final = frozenset({ChannelState.CLOSED, ChannelState.ERROR})


@dataclass(frozen=True, slots=True)
class HandshakeMessage:
    """Bytes to send to the peer now, before anything else, as one binary message."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Established:
    """The handshake is done; the peer proved this Ed25519 identity."""

    remote_identity: bytes
    remote_info: Mapping[str, InfoValue] = field(hash=False)
    handshake_hash: bytes


@dataclass(frozen=True, slots=True)
class Payload:
    """Application data the peer sent, authenticated and in order."""

    data: bytes


ChannelEvent: TypeAlias = HandshakeMessage | Established | Payload


def prologue(network_id: bytes) -> bytes:
    """The Noise prologue: a different app or network id makes the handshake fail."""
    return PROLOGUE_PREFIX + network_id


def _check_info(
    info: Mapping[str, object], fail: Callable[[str], ProtocolError]
) -> dict[str, InfoValue]:
    """The info map, checked the same way for ours and the peer's."""
    if len(info) > MAX_INFO_ENTRIES:
        raise fail(f"has {len(info)} entries, at most {MAX_INFO_ENTRIES}")
    checked: dict[str, InfoValue] = {}
    for key, value in info.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_INFO_KEY:
            raise fail(f"key {key!r} must be a str of 1 to {MAX_INFO_KEY} characters")
        if isinstance(value, bool):
            checked[key] = value
        elif isinstance(value, int):
            if not _INT64_MIN <= value <= _UINT64_MAX:
                raise fail(f"{key}: int out of the 64-bit range")
            checked[key] = value
        elif isinstance(value, str):
            if len(value.encode("utf-8", "surrogatepass")) > MAX_INFO_STR:
                raise fail(f"{key}: str longer than {MAX_INFO_STR} bytes")
            checked[key] = value
        else:
            raise fail(f"{key}: must be str, int or bool, got {type(value).__name__}")
    return checked


def _local_info_error(reason: str) -> ProtocolError:
    return LocalProtocolError(f"info {reason}")


def _remote_info_error(reason: str) -> ProtocolError:
    return PayloadError("i", reason)


def _encode_payload(
    identity: SigningKey, static_public: bytes, info: dict[str, InfoValue]
) -> bytes:
    body: dict[str, object] = {
        "k": identity.public_key,
        "s": identity.sign(SIGNATURE_CONTEXT + static_public),
        "v": PAYLOAD_VERSION,
    }
    if info:
        body["i"] = info
    packed: bytes = msgpack.packb(body, use_bin_type=True)
    return packed


def _decode_payload(data: bytes) -> tuple[bytes, bytes, dict[str, InfoValue]]:
    """(identity key, signature, info) from a peer's payload, strictly checked."""
    try:
        body = msgpack.unpackb(data, raw=False, strict_map_key=True, **_UNPACK_LIMITS)
    except (msgpack.UnpackException, ValueError, TypeError, OverflowError) as exc:
        raise DecodeError(f"handshake payload is not msgpack within limits: {exc}") from exc
    if not isinstance(body, dict):
        raise PayloadError("(root)", f"must be a map, got {type(body).__name__}")
    unknown = set(body) - {"k", "s", "v", "i"}
    if unknown:
        raise PayloadError(sorted(map(str, unknown))[0], "unknown key")
    version = body.get("v")
    if type(version) is not int or version != PAYLOAD_VERSION:
        raise PayloadError("v", f"must be the int {PAYLOAD_VERSION}, got {version!r}")
    key = body.get("k")
    if not isinstance(key, bytes) or len(key) != PUBLIC_KEY_BYTES:
        raise PayloadError("k", f"must be {PUBLIC_KEY_BYTES} bytes (bin)")
    signature = body.get("s")
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_BYTES:
        raise PayloadError("s", f"must be {SIGNATURE_BYTES} bytes (bin)")
    info = body.get("i", {})
    if not isinstance(info, dict):
        raise PayloadError("i", f"must be a map, got {type(info).__name__}")
    return key, signature, _check_info(info, _remote_info_error)


class SecureChannel:
    """One authenticated, encrypted link to one peer.

    Feed every binary message from the peer to receive(); send every HandshakeMessage
    it returns, in order; after Established, wrap outgoing data with send(). The
    channel owns the handshake deadline: ask get_timer() when it falls and call
    check_timeout() then, with the same clock as `now` (aioquic's get_timer and
    handle_timer).
    """

    def __init__(
        self,
        role: Role,
        identity: SigningKey,
        network_id: bytes,
        *,
        now: float,
        static_key: bytes | None = None,
        expected_identity: bytes | None = None,
        info: Mapping[str, InfoValue] | None = None,
        handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        ephemeral_key: bytes | None = None,
    ) -> None:
        """`static_key` is a 32-byte X25519 private key (default: a fresh one per channel).

        `ephemeral_key` exists only for test vectors and the worked example in the docs:
        reusing an ephemeral key destroys forward secrecy. Never set it otherwise.
        """
        if len(network_id) > MAX_NETWORK_ID:
            raise LocalProtocolError(f"network_id is at most {MAX_NETWORK_ID} bytes")
        if expected_identity is not None and len(expected_identity) != PUBLIC_KEY_BYTES:
            raise LocalProtocolError(f"expected_identity is {PUBLIC_KEY_BYTES} bytes")
        if handshake_timeout <= 0 or max_frame_bytes <= 0:
            raise LocalProtocolError("handshake_timeout and max_frame_bytes must be positive")
        static = _x25519(static_key, "static_key")
        if static is None:
            static = X25519PrivateKey.generate()  # per channel: nothing to store or leak
        checked_info = _check_info(info or {}, _local_info_error)
        payload = _encode_payload(identity, public_bytes(static), checked_info)
        # Message 2 is the larger of the two that carry our payload.
        if _MSG2_OVERHEAD + len(payload) > MAX_HANDSHAKE_MESSAGE:
            raise LocalProtocolError("info is too large for a handshake message")
        self.role = role
        self._payload = payload
        self._expected = expected_identity
        self._deadline = now + handshake_timeout
        self._max_frame = max_frame_bytes
        self._noise: HandshakeState | None = HandshakeState(
            role,
            static,
            prologue=prologue(network_id),
            ephemeral_key=_x25519(ephemeral_key, "ephemeral_key"),
        )
        self._send: CipherState | None = None
        self._receive: CipherState | None = None
        self._state = ChannelState.START if role is Role.INITIATOR else ChannelState.AWAIT_MSG1
        self.remote_identity: bytes | None = None

    @property
    def state(self) -> ChannelState:
        return self._state

    def start(self) -> bytes:
        """The initiator's first message (-> e)."""
        if self.role is not Role.INITIATOR:
            raise LocalProtocolError("only the initiator calls start(); the responder waits")
        target = self._target(_Step.START)
        message = self._guarded(lambda: self._handshake().write_message(b""))
        self._state = target
        return message

    def receive(self, data: bytes) -> list[ChannelEvent]:
        """Process one binary message from the peer."""
        target = self._target(_Step.RECEIVE)
        events = self._guarded(lambda: self._dispatch(data))
        self._state = target
        return events

    def send(self, payload: bytes) -> bytes:
        """One encrypted frame carrying `payload`; only once established."""
        target = self._target(_Step.SEND)
        if len(payload) > self._max_frame:
            raise LocalProtocolError(f"payload of {len(payload)} bytes exceeds {self._max_frame}")
        assert self._send is not None  # set when ESTABLISHED is entered
        cipher = self._send
        frame = self._guarded(lambda: cipher.encrypt_with_ad(b"", payload))
        self._state = target
        return frame

    def get_timer(self) -> float | None:
        """When the handshake times out (on the clock of `now`); None once established,
        closed or failed: no timer to arm."""
        if self._state is ChannelState.ESTABLISHED or self._state in _TERMINAL:
            return None
        return self._deadline

    def check_timeout(self, now: float) -> None:
        """Fail the channel if the handshake has not finished by the deadline."""
        self._check_alive()
        if self._state is not ChannelState.ESTABLISHED and now >= self._deadline:
            self._fail()
            raise HandshakeTimeout("handshake timed out")

    def close(self) -> None:
        """Forget the keys; idempotent, and an ERROR channel stays in ERROR."""
        if self._state is not ChannelState.ERROR:
            self._state = ChannelState.CLOSED
        self._forget_keys()

    # Internals.

    def _check_alive(self) -> None:
        if self._state in _TERMINAL:
            raise LocalProtocolError(f"the channel is {self._state.name}; open a new one")

    def _target(self, step: _Step) -> ChannelState:
        self._check_alive()
        target = _TRANSITIONS.get((self._state, step))
        if target is None:
            raise LocalProtocolError(f"cannot {step.name.lower()} in state {self._state.name}")
        return target

    def _guarded(self, action: Callable[[], _T]) -> _T:
        try:
            return action()
        except Exception:  # whatever went wrong, this channel is done
            self._fail()
            raise

    def _fail(self) -> None:
        self._state = ChannelState.ERROR
        self._forget_keys()

    def _forget_keys(self) -> None:
        self._noise = None
        self._send = None
        self._receive = None

    def _handshake(self) -> HandshakeState:
        assert self._noise is not None  # present until ESTABLISHED, CLOSED or ERROR
        return self._noise

    def _dispatch(self, data: bytes) -> list[ChannelEvent]:
        if self._state is ChannelState.ESTABLISHED:
            return [self._read_frame(data)]
        if len(data) > MAX_HANDSHAKE_MESSAGE:
            raise HandshakeError(f"handshake message of {len(data)} bytes exceeds 1 KiB")
        if self._state is ChannelState.AWAIT_MSG1:
            if len(data) != _MSG1_LEN:
                raise HandshakeError(f"message 1 must be {_MSG1_LEN} bytes, got {len(data)}")
            self._handshake().read_message(data)
            return [HandshakeMessage(self._handshake().write_message(self._payload))]
        # Message 2 for the initiator, message 3 for the responder: both carry the proof.
        noise = self._handshake()
        identity, info = self._verify_peer(noise.read_message(data))
        events: list[ChannelEvent] = []
        if self.role is Role.INITIATOR:
            # Sent only now: a peer that failed the checks never learns who we are.
            events.append(HandshakeMessage(noise.write_message(self._payload)))
        ciphers = noise.split()
        events.append(Established(identity, MappingProxyType(info), noise.handshake_hash))
        self._send, self._receive = ciphers.send, ciphers.receive
        self._noise = None
        self.remote_identity = identity
        return events

    def _verify_peer(self, payload: bytes) -> tuple[bytes, dict[str, InfoValue]]:
        remote_static = self._handshake().remote_static
        assert remote_static is not None  # XX sends s before the payload that proves it
        identity, signature, info = _decode_payload(payload)
        if not verify_signature(identity, signature, SIGNATURE_CONTEXT + remote_static):
            raise HandshakeError(
                f"identity proof failed: {fingerprint(identity)} did not sign this Noise key"
            )
        if self._expected is not None and identity != self._expected:
            raise HandshakeError(
                f"identity mismatch: expected {fingerprint(self._expected)}, "
                f"peer proved {fingerprint(identity)}"
            )
        return identity, info

    def _read_frame(self, data: bytes) -> Payload:
        if len(data) > self._max_frame + TAGLEN:
            raise DecodeError(f"frame of {len(data)} bytes exceeds {self._max_frame + TAGLEN}")
        assert self._receive is not None
        return Payload(self._receive.decrypt_with_ad(b"", data))


def _x25519(raw: bytes | None, name: str) -> X25519PrivateKey | None:
    if raw is None:
        return None
    if len(raw) != 32:
        raise LocalProtocolError(f"{name} is a 32-byte X25519 private key, got {len(raw)}")
    return X25519PrivateKey.from_private_bytes(raw)
