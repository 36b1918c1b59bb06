"""The peernode secure channel: handshake, identity binding, framing and failure modes."""

from __future__ import annotations

from collections.abc import Callable

import msgpack
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from protocol.handshake import (
    MAX_HANDSHAKE_MESSAGE,
    SIGNATURE_CONTEXT,
    ChannelState,
    Established,
    HandshakeError,
    HandshakeMessage,
    HandshakeTimeout,
    Payload,
    PayloadError,
    Role,
    SecureChannel,
    prologue,
)
from protocol.identity import SigningKey
from protocol.noise import (
    PROTOCOL_NAME,
    DecryptionFailed,
    HandshakeState,
    InvalidPublicKey,
    SymmetricState,
    public_bytes,
)

NETWORK = b"peernode-example"


def _fixed(byte: int) -> bytes:
    return bytes([byte]) * 32


# The worked example of docs/protocol-handshake.md: every key fixed, so every byte is too.
EXAMPLE_INITIATOR_SEED = _fixed(0x11)
EXAMPLE_RESPONDER_SEED = _fixed(0x22)
EXAMPLE = {
    "prologue": "706565726e6f64652f3100706565726e6f64652d6578616d706c65",
    "h_after_prologue": "c89010f40d830bf739a84cf0d6c275db136af6c34c91911c57d9e2eadf5276e8",
    "initiator_identity": "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737",
    "responder_identity": "a09aa5f47a6759802ff955f8dc2d2a14a5c99d23be97f864127ff9383455a4f0",
    "initiator_static": "7b0d47d93427f8311160781c7c733fd89f88970aef490d8aa0ee19a4cb8a1b14",
    "responder_static": "ff2ee45601ec1b67310c7790404585ae697331eee1c1f8cf2419731c1fff3e6b",
    "message1": "38ab664bd86f77d7e66bdd9ae0792913a94fd8b33a1260027e4b46c1f4884c67",
    "responder_payload": (
        "84a16bc420a09aa5f47a6759802ff955f8dc2d2a14a5c99d23be97f864127ff9383455a4f0a173c440"
        "e4f62db6b48e959de110d3ccd2756fb9427ede0651b65b897ba3075e76be4c938c9a89e9a1c4243bfc"
        "8465a7f147d8afe95a9a617925e8ef839af929acf7ca07a17601a16982a46e616d65a66c61622d7063"
        "a4706f7274cd1d11"
    ),
    "message2": (
        "219e4d800da968d2a5fcb009c784f4746c7138edb9ee4844b739e830b05cf4246aed85480fed466fa4"
        "8f91c050fc105ba23d8eeb347decf360c84d5822a5a4ffecae207b7522d3267d7152f55f7b11c93c8f"
        "6735d8c326744ce7d627290045d9f3a21d24555b28765b7a596af904e17cfcd873c83b87f97e45b03b"
        "64f7ed1635ab4a1d0bc46a7f25c92e27876d72f5fb5c9c63cb60c7c6db0063d156ca6f299ffd6e9092"
        "69b4d200673ae496dbd81ad3d14daeed2e25573b9d923a214cfdb03d4c4dd34d5d35aaa7d98e0aa492"
        "116a6078618abc1f642359406dcca02bdcedb203c564"
    ),
    "message3": (
        "a7b9438ecdf08d9a5d506d6ba13274c3f8bd8a220498b6fddf2b38c7ba7c9ed828b9a23fec96365ea8"
        "b96e988d90ae75f4b946262c6e90b83fdb36b9663672da4d1d6e2d91dca245df348afc32c184377bee"
        "6cc9ce32448cd8631519fe228ad84b87b5636c190583971d5b29f776884bbb7751ab95aaea8cb09d64"
        "732d5610b2fa74552886a8287c24fe04616e9601a42781affa898ed9f0fdb8c15110484489be988dd1"
        "6204ef06ae9b4af7"
    ),
    "handshake_hash": "50a4048cc73ef82e6f7a159cf9bcd7ed3cfdcdb176bc79b1fcc29d47751ee128",
    "frame_hello": "0721911436f48ce4db25dcd66e342c5cb185326360",
}


def example_pair(
    *, responder_info: dict[str, str | int | bool] | None = None
) -> tuple[SecureChannel, SecureChannel]:
    initiator = SecureChannel(
        Role.INITIATOR,
        SigningKey.from_seed(EXAMPLE_INITIATOR_SEED),
        NETWORK,
        now=0.0,
        static_key=_fixed(0x33),
        ephemeral_key=_fixed(0x55),
    )
    responder = SecureChannel(
        Role.RESPONDER,
        SigningKey.from_seed(EXAMPLE_RESPONDER_SEED),
        NETWORK,
        now=0.0,
        static_key=_fixed(0x44),
        ephemeral_key=_fixed(0x66),
        info={"name": "lab-pc", "port": 7441} if responder_info is None else responder_info,
    )
    return initiator, responder


def fresh_pair(
    *,
    initiator_net: bytes = NETWORK,
    responder_net: bytes = NETWORK,
    now: float = 100.0,
    **responder_kwargs: object,
) -> tuple[SecureChannel, SecureChannel]:
    initiator = SecureChannel(Role.INITIATOR, SigningKey.generate(), initiator_net, now=now)
    responder = SecureChannel(
        Role.RESPONDER,
        SigningKey.generate(),
        responder_net,
        now=now,
        **responder_kwargs,  # type: ignore[arg-type]
    )
    return initiator, responder


def only_message(events: list[object]) -> bytes:
    assert len(events) == 1
    assert isinstance(events[0], HandshakeMessage)
    return events[0].data


def handshake(
    initiator: SecureChannel, responder: SecureChannel
) -> tuple[Established, Established, list[bytes]]:
    """Run the three messages; return (initiator's view, responder's view, transcript)."""
    message1 = initiator.start()
    message2 = only_message(list(responder.receive(message1)))
    events = initiator.receive(message2)
    assert [type(event) for event in events] == [HandshakeMessage, Established]
    message3 = events[0].data  # type: ignore[union-attr]
    at_initiator = events[1]
    (at_responder,) = responder.receive(message3)
    assert isinstance(at_initiator, Established)
    assert isinstance(at_responder, Established)
    return at_initiator, at_responder, [message1, message2, message3]


def assert_dead(channel: SecureChannel) -> None:
    assert channel.state is ChannelState.ERROR
    for call in (
        lambda: channel.receive(b"x" * 40),
        lambda: channel.send(b"x"),
        lambda: channel.check_timeout(0.0),
        lambda: channel.start(),
    ):
        with pytest.raises(LocalProtocolError):
            call()


# Worked example.


def test_worked_example_bytes() -> None:
    initiator, responder = example_pair()
    assert prologue(NETWORK).hex() == EXAMPLE["prologue"]
    at_initiator, at_responder, transcript = handshake(initiator, responder)
    assert transcript[0].hex() == EXAMPLE["message1"]
    assert transcript[1].hex() == EXAMPLE["message2"]
    assert transcript[2].hex() == EXAMPLE["message3"]
    assert at_initiator.handshake_hash.hex() == EXAMPLE["handshake_hash"]
    assert at_responder.handshake_hash.hex() == EXAMPLE["handshake_hash"]
    assert initiator.send(b"hello").hex() == EXAMPLE["frame_hello"]


def test_worked_example_derived_values() -> None:
    symmetric = SymmetricState(PROTOCOL_NAME)
    symmetric.mix_hash(prologue(NETWORK))
    assert symmetric.handshake_hash.hex() == EXAMPLE["h_after_prologue"]
    assert (
        SigningKey.from_seed(EXAMPLE_INITIATOR_SEED).public_key.hex()
        == (EXAMPLE["initiator_identity"])
    )
    assert (
        SigningKey.from_seed(EXAMPLE_RESPONDER_SEED).public_key.hex()
        == (EXAMPLE["responder_identity"])
    )
    for seed, name in ((0x33, "initiator_static"), (0x44, "responder_static")):
        static = X25519PrivateKey.from_private_bytes(_fixed(seed))
        assert public_bytes(static).hex() == EXAMPLE[name]


def test_worked_example_payload_and_message_1() -> None:
    responder_seed_key = SigningKey.from_seed(EXAMPLE_RESPONDER_SEED)
    responder_static = X25519PrivateKey.from_private_bytes(_fixed(0x44))
    payload = bytes.fromhex(EXAMPLE["responder_payload"])
    assert msgpack.unpackb(payload) == {
        "k": responder_seed_key.public_key,
        "s": responder_seed_key.sign(SIGNATURE_CONTEXT + public_bytes(responder_static)),
        "v": 1,
        "i": {"name": "lab-pc", "port": 7441},
    }
    # Message 1 is exactly the initiator's ephemeral public key.
    ephemeral = X25519PrivateKey.from_private_bytes(_fixed(0x55))
    assert public_bytes(ephemeral).hex() == EXAMPLE["message1"]


# The happy path.


def test_two_channels_complete_and_exchange_data_both_ways() -> None:
    initiator_key, responder_key = SigningKey.generate(), SigningKey.generate()
    initiator = SecureChannel(
        Role.INITIATOR, initiator_key, NETWORK, now=0.0, info={"name": "ada", "port": 7000}
    )
    responder = SecureChannel(
        Role.RESPONDER,
        responder_key,
        NETWORK,
        now=0.0,
        info={"name": "bob", "port": 7001, "busy": False},
        expected_identity=initiator_key.public_key,
    )
    at_initiator, at_responder, _ = handshake(initiator, responder)
    assert at_initiator.remote_identity == responder_key.public_key
    assert at_responder.remote_identity == initiator_key.public_key
    assert at_initiator.remote_info == {"name": "bob", "port": 7001, "busy": False}
    assert at_responder.remote_info == {"name": "ada", "port": 7000}
    assert at_initiator.handshake_hash == at_responder.handshake_hash
    assert initiator.remote_identity == responder_key.public_key
    assert initiator.state is responder.state is ChannelState.ESTABLISHED
    for index in range(5):
        data = f"note {index}".encode() * index
        assert responder.receive(initiator.send(data)) == [Payload(data)]
        assert initiator.receive(responder.send(data[::-1])) == [Payload(data[::-1])]
    assert responder.receive(initiator.send(b"")) == [Payload(b"")]


def test_every_channel_uses_fresh_keys() -> None:
    identity = SigningKey.generate()
    first = SecureChannel(Role.INITIATOR, identity, NETWORK, now=0.0).start()
    second = SecureChannel(Role.INITIATOR, identity, NETWORK, now=0.0).start()
    assert first != second
    a1, _, _ = handshake(*fresh_pair())
    a2, _, _ = handshake(*fresh_pair())
    assert a1.handshake_hash != a2.handshake_hash


def test_remote_info_is_read_only() -> None:
    at_initiator, _, _ = handshake(*fresh_pair(info={"name": "bob"}))
    with pytest.raises(TypeError):
        at_initiator.remote_info["name"] = "eve"  # type: ignore[index]


def test_frame_size_limit_is_exact() -> None:
    initiator, responder = fresh_pair(max_frame_bytes=64)
    initiator_big = SecureChannel(
        Role.INITIATOR, SigningKey.generate(), NETWORK, now=0.0, max_frame_bytes=64
    )
    handshake(initiator_big, responder)
    assert responder.receive(initiator_big.send(bytes(64))) == [Payload(bytes(64))]
    with pytest.raises(LocalProtocolError):
        responder.send(bytes(65))
    assert responder.state is ChannelState.ESTABLISHED  # our mistake, nothing sent
    assert initiator.state is ChannelState.START


def test_oversized_frame_is_rejected_before_decrypting() -> None:
    initiator, responder = fresh_pair(max_frame_bytes=64)
    handshake(initiator, responder)
    frame = initiator.send(bytes(65))  # the initiator allows 1 MiB
    assert len(frame) == 65 + 16
    with pytest.raises(DecodeError):
        responder.receive(frame)
    assert_dead(responder)


def test_frame_shorter_than_a_tag_is_rejected() -> None:
    initiator, responder = fresh_pair()
    handshake(initiator, responder)
    with pytest.raises(DecryptionFailed):
        responder.receive(bytes(15))
    assert_dead(responder)


# Foreign apps, networks and identities.


def test_wrong_network_id_fails_on_both_sides() -> None:
    initiator, responder = fresh_pair(initiator_net=b"net-a", responder_net=b"net-b")
    message2 = only_message(list(responder.receive(initiator.start())))
    with pytest.raises(DecryptionFailed):
        initiator.receive(message2)
    assert_dead(initiator)
    # The responder never gets a valid message 3: anything it is sent fails, or it times out.
    with pytest.raises(RemoteProtocolError):
        responder.receive(bytes(48 + 16 + 110))
    other_initiator, other_responder = fresh_pair(responder_net=b"net-b", initiator_net=b"net-a")
    other_responder.receive(other_initiator.start())
    with pytest.raises(HandshakeTimeout):
        other_responder.check_timeout(100.0 + 10.0)


def test_foreign_app_with_another_prologue_fails() -> None:
    # A plain Noise XX peer of another app, same keys and network id, other prologue.
    foreign = HandshakeState(
        Role.RESPONDER, X25519PrivateKey.generate(), prologue=b"otherapp/1\x00" + NETWORK
    )
    initiator = SecureChannel(Role.INITIATOR, SigningKey.generate(), NETWORK, now=0.0)
    foreign.read_message(initiator.start())
    with pytest.raises(DecryptionFailed):
        initiator.receive(foreign.write_message(b""))
    assert_dead(initiator)
    # And the other way round: the foreign initiator cannot read our message 2.
    foreign_initiator = HandshakeState(
        Role.INITIATOR, X25519PrivateKey.generate(), prologue=b"otherapp/1\x00" + NETWORK
    )
    responder = SecureChannel(Role.RESPONDER, SigningKey.generate(), NETWORK, now=0.0)
    message2 = only_message(list(responder.receive(foreign_initiator.write_message(b""))))
    with pytest.raises(DecryptionFailed):
        foreign_initiator.read_message(message2)


def _forged_payload(claimed: SigningKey, signer: SigningKey, static_public: bytes) -> bytes:
    packed: bytes = msgpack.packb(
        {"k": claimed.public_key, "s": signer.sign(SIGNATURE_CONTEXT + static_public), "v": 1}
    )
    return packed


def test_responder_payload_signed_by_another_key_is_rejected() -> None:
    victim, mallory = SigningKey.generate(), SigningKey.generate()
    static = _fixed(0x44)
    static_public = public_bytes(X25519PrivateKey.from_private_bytes(static))
    initiator, responder = fresh_pair(static_key=static)
    responder._payload = _forged_payload(victim, mallory, static_public)
    message2 = only_message(list(responder.receive(initiator.start())))
    with pytest.raises(HandshakeError, match="identity proof"):
        initiator.receive(message2)
    assert_dead(initiator)


def test_initiator_payload_signed_by_another_key_is_rejected() -> None:
    victim, mallory = SigningKey.generate(), SigningKey.generate()
    static = _fixed(0x33)
    static_public = public_bytes(X25519PrivateKey.from_private_bytes(static))
    initiator = SecureChannel(Role.INITIATOR, mallory, NETWORK, now=0.0, static_key=static)
    initiator._payload = _forged_payload(victim, mallory, static_public)
    responder = SecureChannel(Role.RESPONDER, SigningKey.generate(), NETWORK, now=0.0)
    message2 = only_message(list(responder.receive(initiator.start())))
    message3 = initiator.receive(message2)[0].data  # type: ignore[union-attr]
    with pytest.raises(HandshakeError, match="identity proof"):
        responder.receive(message3)
    assert_dead(responder)


def test_payload_replayed_from_another_session_is_rejected() -> None:
    # A genuine payload, but signed for a different Noise static key (a relay attack).
    victim = SigningKey.generate()
    other_static = public_bytes(X25519PrivateKey.generate())
    initiator, responder = fresh_pair()
    responder._payload = _forged_payload(victim, victim, other_static)
    message2 = only_message(list(responder.receive(initiator.start())))
    with pytest.raises(HandshakeError, match="identity proof"):
        initiator.receive(message2)


def test_expected_identity_mismatch_at_the_initiator_hides_its_identity() -> None:
    advertised = SigningKey.generate().public_key
    initiator = SecureChannel(
        Role.INITIATOR, SigningKey.generate(), NETWORK, now=0.0, expected_identity=advertised
    )
    responder = SecureChannel(Role.RESPONDER, SigningKey.generate(), NETWORK, now=0.0)
    message2 = only_message(list(responder.receive(initiator.start())))
    with pytest.raises(HandshakeError, match="identity mismatch"):
        initiator.receive(message2)  # raised before message 3 (our identity) is written
    assert_dead(initiator)


def test_expected_identity_mismatch_at_the_responder() -> None:
    initiator, responder = fresh_pair(expected_identity=SigningKey.generate().public_key)
    message2 = only_message(list(responder.receive(initiator.start())))
    message3 = initiator.receive(message2)[0].data  # type: ignore[union-attr]
    with pytest.raises(HandshakeError, match="identity mismatch"):
        responder.receive(message3)
    assert_dead(responder)


# Malformed handshake messages.

LOW_ORDER_POINT = bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")


@pytest.mark.parametrize(
    ("message1", "error"),
    [
        (b"", HandshakeError),
        (bytes(31), HandshakeError),
        (bytes(33), HandshakeError),  # message 1 carries no payload
        (bytes(MAX_HANDSHAKE_MESSAGE + 1), HandshakeError),
        (bytes(32), InvalidPublicKey),
        (LOW_ORDER_POINT, InvalidPublicKey),
    ],
    ids=["empty", "truncated", "trailing", "oversized", "zero-key", "low-order"],
)
def test_bad_message_1(message1: bytes, error: type[RemoteProtocolError]) -> None:
    responder = SecureChannel(Role.RESPONDER, SigningKey.generate(), NETWORK, now=0.0)
    with pytest.raises(error):
        responder.receive(message1)
    assert_dead(responder)


def _message2() -> tuple[SecureChannel, bytes]:
    initiator, responder = fresh_pair()
    return initiator, only_message(list(responder.receive(initiator.start())))


MESSAGE_2_MUTATIONS: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda m: b"",
    "truncated-e": lambda m: m[:20],
    "truncated-s": lambda m: m[:60],
    "truncated-payload": lambda m: m[:-1],
    "garbage": lambda m: bytes(range(256))[: len(m)],
    "trailing": lambda m: m + b"\x00",
    "oversized": lambda m: m + bytes(MAX_HANDSHAKE_MESSAGE),
    "zero-key": lambda m: bytes(32) + m[32:],
    "low-order": lambda m: LOW_ORDER_POINT + m[32:],
}


@pytest.mark.parametrize("mutate", MESSAGE_2_MUTATIONS.values(), ids=MESSAGE_2_MUTATIONS.keys())
def test_bad_message_2(mutate: Callable[[bytes], bytes]) -> None:
    initiator, message2 = _message2()
    with pytest.raises(RemoteProtocolError):
        initiator.receive(mutate(message2))
    assert_dead(initiator)


def test_oversized_handshake_message_is_rejected_before_any_work() -> None:
    initiator, message2 = _message2()
    with pytest.raises(HandshakeError, match="exceeds 1 KiB"):
        initiator.receive(message2 + bytes(MAX_HANDSHAKE_MESSAGE))


@pytest.mark.parametrize(
    "mutate",
    [lambda m: b"", lambda m: m[:47], lambda m: m[:-1], lambda m: bytes(len(m)), lambda m: m * 7],
    ids=["empty", "truncated-s", "truncated-payload", "garbage", "oversized"],
)
def test_bad_message_3(mutate: Callable[[bytes], bytes]) -> None:
    initiator, responder = fresh_pair()
    message2 = only_message(list(responder.receive(initiator.start())))
    message3 = initiator.receive(message2)[0].data  # type: ignore[union-attr]
    with pytest.raises(RemoteProtocolError):
        responder.receive(mutate(message3))
    assert_dead(responder)


# Payload decoding: strict msgpack and precise errors.


def _packed(body: object) -> bytes:
    packed: bytes = msgpack.packb(body, use_bin_type=True)
    return packed


def _valid_body(signer: SigningKey, static: bytes) -> dict[str, object]:
    static_public = public_bytes(X25519PrivateKey.from_private_bytes(static))
    return {
        "k": signer.public_key,
        "s": signer.sign(SIGNATURE_CONTEXT + static_public),
        "v": 1,
    }


def _deliver_responder_payload(raw: bytes | Callable[[dict[str, object]], bytes]) -> None:
    signer, static = SigningKey.generate(), _fixed(0x44)
    initiator, responder = fresh_pair(static_key=static)
    responder._payload = raw if isinstance(raw, bytes) else raw(_valid_body(signer, static))
    message2 = only_message(list(responder.receive(initiator.start())))
    try:
        initiator.receive(message2)
    finally:
        assert_dead(initiator)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xc1",  # never used in msgpack
        b"\x81\xa1k",  # truncated
        _packed({"k": 1}) + b"\x00",  # trailing bytes
        _packed({1: 2}),  # non-string key
        _packed({"k": [1]}),  # arrays are not allowed anywhere
        _packed({"k": msgpack.ExtType(1, b"x")}),
        _packed({"k": "x" * 200}),
        _packed({"k": bytes(65)}),
        _packed({str(i): i for i in range(9)}),
        b"\x81\xa1a" * 250,  # deeply nested maps that never end
    ],
    ids=[
        "empty",
        "reserved-byte",
        "truncated",
        "trailing",
        "int-key",
        "array",
        "ext",
        "long-str",
        "long-bin",
        "big-map",
        "truncated-deep",
    ],
)
def test_undecodable_payload_is_a_decode_error(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        _deliver_responder_payload(raw)


def test_oversized_payload_is_rejected_by_size() -> None:
    with pytest.raises(HandshakeError, match="exceeds 1 KiB"):
        _deliver_responder_payload(_packed({"k": "x" * 100, "i": {"a": "b" * 1000}}))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: _packed([]), "(root)"),
        (lambda b: _packed(1), "(root)"),
        (lambda b: _packed({**b, "x": 1}), "x"),
        (lambda b: _packed({**b, "v": 2}), "v"),
        (lambda b: _packed({**b, "v": True}), "v"),
        (lambda b: _packed({k: v for k, v in b.items() if k != "v"}), "v"),
        (lambda b: _packed({**b, "k": "not bytes"}), "k"),
        (lambda b: _packed({**b, "k": bytes(31)}), "k"),
        (lambda b: _packed({**b, "s": bytes(63)}), "s"),
        (lambda b: _packed({**b, "i": "name"}), "i"),
        (lambda b: _packed({**b, "i": {"name": b"bytes"}}), "i"),
        (lambda b: _packed({**b, "i": {"": 1}}), "i"),
        (lambda b: _packed({**b, "i": {"n": {"nested": 1}}}), "i"),
        (lambda b: _packed({**b, "i": {"n": 1.5}}), "i"),
    ],
    ids=[
        "array-root",
        "int-root",
        "unknown-key",
        "version-2",
        "version-bool",
        "version-missing",
        "k-str",
        "k-short",
        "s-short",
        "i-str",
        "i-bytes-value",
        "i-empty-key",
        "i-nested",
        "i-float",
    ],
)
def test_wrongly_typed_payload_names_the_field(
    change: Callable[[dict[str, object]], bytes], field: str
) -> None:
    with pytest.raises(PayloadError) as caught:
        _deliver_responder_payload(change)
    assert caught.value.field == field


def test_bad_local_info_is_our_error() -> None:
    identity = SigningKey.generate()
    for info in (
        {str(i): i for i in range(9)},
        {"name": 1.5},
        {"name": "x" * 129},
        {"": 1},
        {"n": 2**64},
    ):
        with pytest.raises(LocalProtocolError):
            SecureChannel(Role.INITIATOR, identity, NETWORK, now=0.0, info=info)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"network_id": bytes(65)},
        {"static_key": bytes(31)},
        {"ephemeral_key": bytes(33)},
        {"expected_identity": bytes(31)},
        {"handshake_timeout": 0.0},
        {"max_frame_bytes": 0},
    ],
)
def test_bad_constructor_arguments(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"network_id": NETWORK, "now": 0.0, **kwargs}
    with pytest.raises(LocalProtocolError):
        SecureChannel(Role.INITIATOR, SigningKey.generate(), **args)  # type: ignore[arg-type]


# Transport: replay, reordering, loss, tampering.


def test_replayed_frame_is_rejected() -> None:
    initiator, responder = fresh_pair()
    handshake(initiator, responder)
    frame = initiator.send(b"once")
    assert responder.receive(frame) == [Payload(b"once")]
    with pytest.raises(DecryptionFailed):
        responder.receive(frame)
    assert_dead(responder)


def test_reordered_frames_are_rejected() -> None:
    initiator, responder = fresh_pair()
    handshake(initiator, responder)
    first, second = initiator.send(b"1"), initiator.send(b"2")
    with pytest.raises(DecryptionFailed):
        responder.receive(second)
    assert_dead(responder)
    del first


def test_dropped_frame_is_detected() -> None:
    initiator, responder = fresh_pair()
    handshake(initiator, responder)
    initiator.send(b"lost")
    with pytest.raises(DecryptionFailed):
        responder.receive(initiator.send(b"after"))


def test_frame_cannot_be_reflected_back() -> None:
    initiator, responder = fresh_pair()
    handshake(initiator, responder)
    with pytest.raises(DecryptionFailed):
        initiator.receive(initiator.send(b"mirror"))


def _transcript() -> list[bytes]:
    """The worked example's handshake followed by four frames, alternating sides."""
    initiator, responder = example_pair()
    _, _, messages = handshake(initiator, responder)
    messages.append(initiator.send(b"first from initiator"))
    messages.append(responder.send(b"first from responder"))
    messages.append(initiator.send(b"second from initiator"))
    messages.append(responder.send(b""))
    return messages


TRANSCRIPT = _transcript()


def _replay(tamper_index: int, tampered: bytes) -> None:
    """Deliver TRANSCRIPT with one message replaced; a RemoteProtocolError must stop it."""
    initiator, responder = example_pair()
    assert initiator.start() == TRANSCRIPT[0]
    # Who receives each message, and what it answers (fixed keys make answers identical).
    for index, original in enumerate(TRANSCRIPT):
        receiver = responder if index in (0, 2, 3, 5) else initiator
        data = tampered if index == tamper_index else original
        events = receiver.receive(data)
        if index == 0:
            answer = only_message(list(events))
            if answer != TRANSCRIPT[1]:
                # A flipped message 1 leads to a different message 2 the initiator must reject.
                initiator.receive(answer)
                raise AssertionError("tampered message 1 was accepted")
        assert index != tamper_index, "tampered message was accepted"
        if index == 1:
            assert isinstance(events[0], HandshakeMessage)
            assert events[0].data == TRANSCRIPT[2]
        if index == 2:
            # The initiator's sends were part of the original transcript.
            initiator.send(b"first from initiator")
            initiator.send(b"second from initiator")
        if index == 3:
            responder.send(b"first from responder")
            responder.send(b"")


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_single_bit_flip_is_rejected(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(TRANSCRIPT) - 1), label="message")
    bit = data.draw(st.integers(0, len(TRANSCRIPT[index]) * 8 - 1), label="bit")
    flipped = bytearray(TRANSCRIPT[index])
    flipped[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(RemoteProtocolError):
        _replay(index, bytes(flipped))


def test_untampered_transcript_replays_cleanly() -> None:
    _replay(-1, b"")  # the harness itself accepts the genuine transcript


# State machine and API misuse.


def test_responder_cannot_start() -> None:
    responder = SecureChannel(Role.RESPONDER, SigningKey.generate(), NETWORK, now=0.0)
    with pytest.raises(LocalProtocolError):
        responder.start()
    assert responder.state is ChannelState.AWAIT_MSG1


def test_calls_out_of_order_are_local_errors_and_change_nothing() -> None:
    initiator, responder = fresh_pair()
    with pytest.raises(LocalProtocolError):
        initiator.receive(bytes(32))  # before start()
    with pytest.raises(LocalProtocolError):
        initiator.send(b"too early")
    with pytest.raises(LocalProtocolError):
        responder.send(b"too early")
    states = [initiator.state]
    message1 = initiator.start()
    with pytest.raises(LocalProtocolError):
        initiator.start()
    states.append(initiator.state)
    message2 = only_message(list(responder.receive(message1)))
    states.append(responder.state)
    initiator.receive(message2)
    states.append(initiator.state)
    assert states == [
        ChannelState.START,
        ChannelState.AWAIT_MSG2,
        ChannelState.AWAIT_MSG3,
        ChannelState.ESTABLISHED,
    ]


def test_close_forgets_keys_and_is_idempotent() -> None:
    initiator, responder = fresh_pair()
    handshake(initiator, responder)
    initiator.close()
    initiator.close()
    assert initiator.state is ChannelState.CLOSED
    with pytest.raises(LocalProtocolError):
        initiator.send(b"x")
    with pytest.raises(LocalProtocolError):
        initiator.receive(responder.send(b"x"))


def test_close_keeps_error_state() -> None:
    initiator, _ = _message2()
    with pytest.raises(RemoteProtocolError):
        initiator.receive(b"garbage")
    initiator.close()
    assert initiator.state is ChannelState.ERROR


# Timeouts.


def test_handshake_timeout() -> None:
    initiator, responder = fresh_pair(now=50.0)
    initiator.start()
    assert initiator.get_timer() == responder.get_timer() == 60.0  # the default 10 s
    initiator.check_timeout(59.99)
    with pytest.raises(HandshakeTimeout, match="handshake timed out"):
        initiator.check_timeout(60.0)
    assert_dead(initiator)
    assert initiator.get_timer() is None  # failed: nothing left to time
    responder.check_timeout(55.0)
    with pytest.raises(HandshakeError):
        responder.check_timeout(1e9)
    assert_dead(responder)


def test_custom_timeout_and_no_timeout_once_established() -> None:
    initiator = SecureChannel(
        Role.INITIATOR, SigningKey.generate(), NETWORK, now=0.0, handshake_timeout=2.0
    )
    responder = SecureChannel(
        Role.RESPONDER, SigningKey.generate(), NETWORK, now=0.0, handshake_timeout=2.0
    )
    assert initiator.get_timer() == 2.0
    handshake(initiator, responder)
    assert initiator.get_timer() is None  # established: the deadline no longer applies
    assert responder.get_timer() is None
    initiator.check_timeout(1e9)
    responder.check_timeout(1e9)
    assert initiator.state is ChannelState.ESTABLISHED
    timed = SecureChannel(
        Role.INITIATOR, SigningKey.generate(), NETWORK, now=0.0, handshake_timeout=2.0
    )
    with pytest.raises(HandshakeTimeout):
        timed.check_timeout(2.0)
