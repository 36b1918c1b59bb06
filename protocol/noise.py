"""The Noise Protocol Framework (revision 34), only Noise_XX_25519_ChaChaPoly_SHA256."""

from __future__ import annotations

import hmac as _stdlib_hmac
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from protocol.errors import DecodeError, LocalProtocolError, RemoteProtocolError

PROTOCOL_NAME: Final = b"Noise_XX_25519_ChaChaPoly_SHA256"
DHLEN: Final = 32
HASHLEN: Final = 32
KEYLEN: Final = 32
TAGLEN: Final = 16
MAX_NONCE: Final = 2**64 - 1  # reserved by the spec: never used to encrypt
MAX_MESSAGE_LEN: Final = 65535  # Noise §3, enforced here for handshake messages

# XX: -> e   <- e, ee, s, es   -> s, se
XX_PATTERN: Final[tuple[tuple[str, ...], ...]] = (
    ("e",),
    ("e", "ee", "s", "es"),
    ("s", "se"),
)

_ZERO_DH: Final = bytes(DHLEN)


class Role(Enum):
    """Which side of a Noise handshake we are: the initiator writes the first message."""

    INITIATOR = "initiator"
    RESPONDER = "responder"


class NoiseError(RemoteProtocolError):
    """A Noise message from the peer failed a check; the handshake or channel is dead."""


class DecryptionFailed(NoiseError):
    """AEAD authentication failed: wrong key, wrong prologue, or tampered bytes."""


class InvalidPublicKey(NoiseError):
    """The peer's X25519 key gives an all-zero shared secret (a low-order point)."""


class NonceExhausted(LocalProtocolError):
    """2^64 - 1 messages went through one key; the channel must be replaced."""


def _hash(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize()


def _hmac(key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(data)
    return mac.finalize()


def hkdf(chaining_key: bytes, input_key_material: bytes) -> tuple[bytes, bytes]:
    """Noise's HKDF with two outputs (spec §4.3), built on HMAC-SHA256."""
    temp_key = _hmac(chaining_key, input_key_material)
    output1 = _hmac(temp_key, b"\x01")
    output2 = _hmac(temp_key, output1 + b"\x02")
    return output1, output2


def public_bytes(private: X25519PrivateKey) -> bytes:
    """The raw 32-byte X25519 public key of `private`."""
    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def dh(private: X25519PrivateKey, public: bytes) -> bytes:
    """X25519, rejecting keys that make the shared secret all zero."""
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(public))
    except ValueError as exc:  # cryptography refuses an all-zero result itself
        raise InvalidPublicKey("X25519 public key of low order (all-zero shared secret)") from exc
    # Checked again so we never depend on the backend's choice.
    if _stdlib_hmac.compare_digest(shared, _ZERO_DH):
        raise InvalidPublicKey("X25519 public key of low order (all-zero shared secret)")
    return shared


def _nonce(n: int) -> bytes:
    # ChaChaPoly in Noise: 32 bits of zeros, then the 64-bit counter little-endian.
    return b"\x00\x00\x00\x00" + n.to_bytes(8, "little")


class CipherState:
    """A key and its message counter (spec §5.1); without a key it passes data through."""

    __slots__ = ("_aead", "_n")

    def __init__(self, key: bytes | None = None) -> None:
        self._aead: ChaCha20Poly1305 | None = None
        self._n = 0
        if key is not None:
            self.initialize_key(key)

    def initialize_key(self, key: bytes) -> None:
        if len(key) != KEYLEN:
            raise LocalProtocolError(f"a ChaChaPoly key is {KEYLEN} bytes, got {len(key)}")
        self._aead = ChaCha20Poly1305(key)
        self._n = 0

    def has_key(self) -> bool:
        return self._aead is not None

    @property
    def nonce(self) -> int:
        return self._n

    def set_nonce(self, n: int) -> None:
        if not 0 <= n <= MAX_NONCE:
            raise LocalProtocolError(f"nonce out of range: {n}")
        self._n = n

    def encrypt_with_ad(self, ad: bytes, plaintext: bytes) -> bytes:
        if self._aead is None:
            return plaintext
        if self._n >= MAX_NONCE:
            raise NonceExhausted("nonce 2^64-1 is reserved; open a new channel")
        ciphertext = self._aead.encrypt(_nonce(self._n), plaintext, ad)
        self._n += 1
        return ciphertext

    def decrypt_with_ad(self, ad: bytes, ciphertext: bytes) -> bytes:
        if self._aead is None:
            return ciphertext
        if self._n >= MAX_NONCE:
            raise NonceExhausted("nonce 2^64-1 is reserved; open a new channel")
        if len(ciphertext) < TAGLEN:
            raise DecryptionFailed(f"ciphertext of {len(ciphertext)} bytes is shorter than a tag")
        try:
            plaintext = self._aead.decrypt(_nonce(self._n), ciphertext, ad)
        except InvalidTag as exc:
            raise DecryptionFailed("authentication tag does not match") from exc
        self._n += 1  # only on success, as the spec says
        return plaintext


class SymmetricState:
    """The chaining key, handshake hash and current cipher (spec §5.2)."""

    __slots__ = ("_ck", "_h", "cipher")

    def __init__(self, protocol_name: bytes) -> None:
        if len(protocol_name) <= HASHLEN:
            self._h = protocol_name.ljust(HASHLEN, b"\x00")
        else:
            self._h = _hash(protocol_name)
        self._ck = self._h
        self.cipher = CipherState()

    @property
    def handshake_hash(self) -> bytes:
        return self._h

    def mix_key(self, input_key_material: bytes) -> None:
        self._ck, temp_k = hkdf(self._ck, input_key_material)
        self.cipher.initialize_key(temp_k[:KEYLEN])

    def mix_hash(self, data: bytes) -> None:
        self._h = _hash(self._h + data)

    def encrypt_and_hash(self, plaintext: bytes) -> bytes:
        ciphertext = self.cipher.encrypt_with_ad(self._h, plaintext)
        self.mix_hash(ciphertext)
        return ciphertext

    def decrypt_and_hash(self, ciphertext: bytes) -> bytes:
        plaintext = self.cipher.decrypt_with_ad(self._h, ciphertext)
        self.mix_hash(ciphertext)
        return plaintext

    def split(self) -> tuple[CipherState, CipherState]:
        """(initiator-to-responder, responder-to-initiator) transport ciphers."""
        temp_k1, temp_k2 = hkdf(self._ck, b"")
        return CipherState(temp_k1[:KEYLEN]), CipherState(temp_k2[:KEYLEN])


@dataclass(frozen=True, slots=True)
class TransportCiphers:
    """The two transport ciphers after Split(), named from our own side."""

    send: CipherState
    receive: CipherState


class HandshakeState:
    """The XX handshake (spec §5.3); single use, and dead after any failure."""

    __slots__ = ("_e", "_failed", "_index", "_re", "_role", "_rs", "_s", "_symmetric")

    def __init__(
        self,
        role: Role,
        static_key: X25519PrivateKey,
        *,
        prologue: bytes = b"",
        ephemeral_key: X25519PrivateKey | None = None,
    ) -> None:
        """`ephemeral_key` is for test vectors only: a reused ephemeral key loses secrecy."""
        self._role = role
        self._s = static_key
        self._e = ephemeral_key
        self._re: bytes | None = None
        self._rs: bytes | None = None
        self._index = 0
        self._failed = False
        self._symmetric = SymmetricState(PROTOCOL_NAME)
        self._symmetric.mix_hash(prologue)

    @property
    def complete(self) -> bool:
        return self._index == len(XX_PATTERN)

    @property
    def remote_static(self) -> bytes | None:
        """The peer's static key once its `s` token is read (authenticated after its DH)."""
        return self._rs

    @property
    def handshake_hash(self) -> bytes:
        return self._symmetric.handshake_hash

    def _our_turn(self) -> bool:
        initiator_writes = self._index % 2 == 0
        return initiator_writes == (self._role is Role.INITIATOR)

    def _check_usable(self, writing: bool) -> Sequence[str]:
        if self._failed:
            raise LocalProtocolError("the handshake failed earlier and cannot be used")
        if self.complete:
            raise LocalProtocolError("the handshake is complete; use split()")
        if self._our_turn() != writing:
            verb = "write" if writing else "read"
            raise LocalProtocolError(f"not our turn to {verb} handshake message {self._index + 1}")
        return XX_PATTERN[self._index]

    def _mix_dh(self, token: str) -> None:
        # Token names are from the initiator's side: "es" is its e with the responder's s.
        ours = token if self._role is Role.INITIATOR else token[::-1]
        local, remote = ours[0], ours[1]
        private = self._keypair_e() if local == "e" else self._s
        public = self._remote("e") if remote == "e" else self._remote("s")
        self._symmetric.mix_key(dh(private, public))

    def _keypair_e(self) -> X25519PrivateKey:
        assert self._e is not None  # every XX DH comes after our "e" token
        return self._e

    def _remote(self, token: str) -> bytes:
        key = self._re if token == "e" else self._rs
        assert key is not None  # every XX DH comes after the peer's matching token
        return key

    def write_message(self, payload: bytes = b"") -> bytes:
        tokens = self._check_usable(writing=True)
        try:
            out = bytearray()
            for token in tokens:
                if token == "e":
                    if self._e is None:
                        self._e = X25519PrivateKey.generate()
                    e_pub = public_bytes(self._e)
                    out += e_pub
                    self._symmetric.mix_hash(e_pub)
                elif token == "s":
                    out += self._symmetric.encrypt_and_hash(public_bytes(self._s))
                else:
                    self._mix_dh(token)
            out += self._symmetric.encrypt_and_hash(payload)
        except BaseException:
            self._failed = True
            raise
        if len(out) > MAX_MESSAGE_LEN:
            self._failed = True
            raise LocalProtocolError(f"handshake message of {len(out)} bytes exceeds Noise's limit")
        self._index += 1
        return bytes(out)

    def read_message(self, message: bytes) -> bytes:
        """Process the peer's message and return its payload; on any error nothing is returned."""
        tokens = self._check_usable(writing=False)
        try:
            if len(message) > MAX_MESSAGE_LEN:
                raise DecodeError(
                    f"handshake message of {len(message)} bytes exceeds Noise's limit"
                )
            view = memoryview(message)
            for token in tokens:
                if token == "e":
                    if len(view) < DHLEN:
                        raise DecodeError("handshake message truncated in the ephemeral key")
                    self._re = bytes(view[:DHLEN])
                    view = view[DHLEN:]
                    self._symmetric.mix_hash(self._re)
                elif token == "s":
                    size = DHLEN + (TAGLEN if self._symmetric.cipher.has_key() else 0)
                    if len(view) < size:
                        raise DecodeError("handshake message truncated in the static key")
                    self._rs = self._symmetric.decrypt_and_hash(bytes(view[:size]))
                    view = view[size:]
                else:
                    self._mix_dh(token)
            payload = self._symmetric.decrypt_and_hash(bytes(view))
        except BaseException:
            self._failed = True
            raise
        self._index += 1
        return payload

    def split(self) -> TransportCiphers:
        """The transport ciphers, oriented for our role; only after the last message."""
        if self._failed or not self.complete:
            raise LocalProtocolError("split() needs a completed handshake")
        c1, c2 = self._symmetric.split()
        if self._role is Role.INITIATOR:
            return TransportCiphers(send=c1, receive=c2)
        return TransportCiphers(send=c2, receive=c1)
