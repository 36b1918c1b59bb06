"""Noise_XX_25519_ChaChaPoly_SHA256 against the published test vectors, and its edge cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from protocol.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from protocol.noise import (
    MAX_NONCE,
    PROTOCOL_NAME,
    CipherState,
    DecryptionFailed,
    HandshakeState,
    InvalidPublicKey,
    NonceExhausted,
    Role,
    SymmetricState,
    dh,
    hkdf,
    public_bytes,
)

# Vector data copied unchanged from the public Noise test-vector files named in each
# vector's "source" field (cacophony's vectors/cacophony.txt and noise-c's
# noise-c-basic.txt, as shipped in mcginty/snow tests/vectors/); only this protocol.
VECTORS_FILE = Path(__file__).parent / "data" / "noise_vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text())["vectors"]

# Points of small order on Curve25519 (and non-canonical encodings of them).
LOW_ORDER_POINTS = [
    bytes(32),
    (1).to_bytes(32, "little"),
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes.fromhex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes.fromhex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
]


def _key(hex_key: str) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(bytes.fromhex(hex_key))


def _pair(vector: dict[str, Any]) -> tuple[HandshakeState, HandshakeState]:
    initiator = HandshakeState(
        Role.INITIATOR,
        _key(vector["init_static"]),
        prologue=bytes.fromhex(vector["init_prologue"]),
        ephemeral_key=_key(vector["init_ephemeral"]),
    )
    responder = HandshakeState(
        Role.RESPONDER,
        _key(vector["resp_static"]),
        prologue=bytes.fromhex(vector["resp_prologue"]),
        ephemeral_key=_key(vector["resp_ephemeral"]),
    )
    return initiator, responder


def test_vectors_are_the_protocol_we_implement() -> None:
    assert len(VECTORS) >= 2
    for vector in VECTORS:
        assert vector["protocol_name"].encode() == PROTOCOL_NAME
        assert not any("psk" in key for key in vector)
    # At least one source gives the final handshake hash (after message 3).
    assert any(vector["handshake_hash_after_message"] == 3 for vector in VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["source"].split(":")[0] for v in VECTORS])
def test_published_vector(vector: dict[str, Any]) -> None:
    initiator, responder = _pair(vector)
    messages = vector["messages"]
    hashes_after: list[str] = []
    # Handshake: -> e, <- e ee s es, -> s se.
    for index, message in enumerate(messages[:3]):
        writer, reader = (initiator, responder) if index % 2 == 0 else (responder, initiator)
        payload = bytes.fromhex(message["payload"])
        ciphertext = writer.write_message(payload)
        assert ciphertext.hex() == message["ciphertext"], f"handshake message {index + 1}"
        assert reader.read_message(ciphertext) == payload
        assert initiator.handshake_hash == responder.handshake_hash
        hashes_after.append(initiator.handshake_hash.hex())
    assert initiator.complete
    assert responder.complete
    # See the vector's note: cacophony's file records h one message early.
    assert hashes_after[vector["handshake_hash_after_message"] - 1] == vector["handshake_hash"]
    assert initiator.remote_static == public_bytes(_key(vector["resp_static"]))
    assert responder.remote_static == public_bytes(_key(vector["init_static"]))
    # Transport: the vectors keep alternating initiator, responder after the handshake.
    i_ciphers, r_ciphers = initiator.split(), responder.split()
    for index, message in enumerate(messages[3:], start=3):
        sender, receiver = (
            (i_ciphers.send, r_ciphers.receive)
            if index % 2 == 0
            else (r_ciphers.send, i_ciphers.receive)
        )
        payload = bytes.fromhex(message["payload"])
        ciphertext = sender.encrypt_with_ad(b"", payload)
        assert ciphertext.hex() == message["ciphertext"], f"transport message {index + 1}"
        assert receiver.decrypt_with_ad(b"", ciphertext) == payload


def test_hkdf_matches_rfc5869_with_chaining_key_as_salt() -> None:
    ck, ikm = bytes(range(32)), b"input key material"
    out1, out2 = hkdf(ck, ikm)
    reference = HKDF(hashes.SHA256(), length=64, salt=ck, info=b"").derive(ikm)
    assert out1 + out2 == reference


def test_protocol_name_is_padded_not_hashed() -> None:
    assert SymmetricState(PROTOCOL_NAME).handshake_hash == PROTOCOL_NAME  # exactly 32 bytes


def test_nonce_layout_is_four_zero_bytes_then_64_bit_little_endian() -> None:
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    key = bytes(range(32))
    cipher = CipherState(key)
    cipher.set_nonce(0x0102030405060708)
    expected = ChaCha20Poly1305(key).encrypt(
        bytes.fromhex("00000000" + "0807060504030201"), b"data", b"ad"
    )
    assert cipher.encrypt_with_ad(b"ad", b"data") == expected
    assert cipher.nonce == 0x0102030405060709


def test_cipher_without_key_passes_data_through() -> None:
    cipher = CipherState()
    assert not cipher.has_key()
    assert cipher.encrypt_with_ad(b"ad", b"x") == b"x"
    assert cipher.decrypt_with_ad(b"ad", b"x") == b"x"


def test_the_reserved_nonce_is_never_used() -> None:
    sender, receiver = CipherState(bytes(32)), CipherState(bytes(32))
    sender.set_nonce(MAX_NONCE - 1)
    receiver.set_nonce(MAX_NONCE - 1)
    assert receiver.decrypt_with_ad(b"", sender.encrypt_with_ad(b"", b"last")) == b"last"
    with pytest.raises(NonceExhausted):
        sender.encrypt_with_ad(b"", b"one too many")
    with pytest.raises(NonceExhausted):
        receiver.decrypt_with_ad(b"", bytes(17))
    with pytest.raises(LocalProtocolError):
        sender.set_nonce(MAX_NONCE + 1)


def test_failed_decryption_raises_and_keeps_the_nonce() -> None:
    sender, receiver = CipherState(bytes(32)), CipherState(bytes(32))
    frame = bytearray(sender.encrypt_with_ad(b"", b"hello"))
    frame[0] ^= 1
    with pytest.raises(DecryptionFailed):
        receiver.decrypt_with_ad(b"", bytes(frame))
    assert receiver.nonce == 0
    with pytest.raises(DecryptionFailed):
        receiver.decrypt_with_ad(b"", b"short")  # shorter than a tag
    assert issubclass(DecryptionFailed, RemoteProtocolError)


def test_wrong_associated_data_fails() -> None:
    sender, receiver = CipherState(bytes(32)), CipherState(bytes(32))
    with pytest.raises(DecryptionFailed):
        receiver.decrypt_with_ad(b"other", sender.encrypt_with_ad(b"ad", b"x"))


@pytest.mark.parametrize("point", LOW_ORDER_POINTS, ids=lambda p: p.hex()[:8])
def test_dh_rejects_low_order_points(point: bytes) -> None:
    with pytest.raises(InvalidPublicKey):
        dh(X25519PrivateKey.generate(), point)
    assert issubclass(InvalidPublicKey, RemoteProtocolError)


@pytest.mark.parametrize("point", LOW_ORDER_POINTS, ids=lambda p: p.hex()[:8])
def test_low_order_ephemeral_in_message_2_is_rejected(point: bytes) -> None:
    initiator, responder = _pair(VECTORS[0])
    responder.read_message(initiator.write_message())
    message2 = bytearray(responder.write_message(b"payload"))
    message2[:32] = point
    with pytest.raises(InvalidPublicKey):
        initiator.read_message(bytes(message2))


def test_low_order_ephemeral_in_message_1_fails_the_responder() -> None:
    # Message 1 has no DH; the first DH with it is the responder's "ee".
    _, responder = _pair(VECTORS[0])
    responder.read_message(bytes(32))
    with pytest.raises(InvalidPublicKey):
        responder.write_message(b"")


@pytest.mark.parametrize("cut", [0, 31, 32, 79, 80, 95])
def test_truncated_message_2_is_rejected(cut: int) -> None:
    initiator, responder = _pair(VECTORS[0])
    responder.read_message(initiator.write_message())
    message2 = responder.write_message(b"")
    with pytest.raises(RemoteProtocolError):
        initiator.read_message(message2[:cut])


def test_truncated_ephemeral_is_a_decode_error() -> None:
    _, responder = _pair(VECTORS[0])
    with pytest.raises(DecodeError):
        responder.read_message(bytes(31))


def test_turns_and_single_use_are_enforced() -> None:
    initiator, responder = _pair(VECTORS[0])
    with pytest.raises(LocalProtocolError):
        responder.write_message()
    with pytest.raises(LocalProtocolError):
        initiator.read_message(bytes(32))
    with pytest.raises(LocalProtocolError):
        initiator.split()
    message1 = initiator.write_message()
    responder.read_message(message1)
    message2 = bytearray(responder.write_message())
    message2[-1] ^= 0x80
    with pytest.raises(DecryptionFailed):
        initiator.read_message(bytes(message2))
    with pytest.raises(LocalProtocolError):  # dead after a failure
        initiator.read_message(bytes(message2))


def test_oversized_handshake_message_is_rejected() -> None:
    _, responder = _pair(VECTORS[0])
    with pytest.raises(DecodeError):
        responder.read_message(bytes(65536))


def test_fresh_ephemeral_keys_when_none_given() -> None:
    static = X25519PrivateKey.generate()
    first = HandshakeState(Role.INITIATOR, static).write_message()
    second = HandshakeState(Role.INITIATOR, static).write_message()
    assert first != second
