"""The home directory: where it is, and how the identity key is kept."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from peernode.errors import IdentityExists, NodeError, NoIdentity
from peernode.home import HOME_ENV, Home, key_pem, resolve_home
from peernode.node import Node, NodeConfig
from protocol.identity import SigningKey


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_option_beats_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "from-env"))

    assert resolve_home(tmp_path / "from-option").path == tmp_path / "from-option"
    assert resolve_home(str(tmp_path / "from-option")).path == tmp_path / "from-option"
    assert resolve_home(None).path == tmp_path / "from-env"
    assert resolve_home("").path == tmp_path / "from-env"


def test_default_is_the_user_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HOME_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))

    assert resolve_home().path == tmp_path / "xdg" / "peernode"


def test_paths_are_absolute_and_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))

    assert resolve_home("relative").path == tmp_path / "relative"
    assert resolve_home("~/node").path == tmp_path / "user" / "node"
    monkeypatch.setenv(HOME_ENV, "~/env-node")
    assert resolve_home().path == tmp_path / "user" / "env-node"


def test_new_home_and_key_are_private(home: Home) -> None:
    key = home.create_key()

    assert mode(home.path) == 0o700
    assert mode(home.key_path) == 0o600
    assert home.has_identity()
    assert home.load_key().public_key == key.public_key
    assert home.key_path.read_bytes() == key_pem(key)
    assert [p.name for p in home.path.iterdir()] == [home.key_path.name]  # no temp left


def test_create_key_refuses_to_overwrite(home: Home) -> None:
    first = home.create_key()
    before = home.key_path.read_bytes()

    with pytest.raises(IdentityExists, match="refusing to overwrite"):
        home.create_key()

    assert home.key_path.read_bytes() == before
    assert home.load_key().public_key == first.public_key
    assert [p.name for p in home.path.iterdir()] == [home.key_path.name]


def test_missing_key_says_how_to_create_one(home: Home) -> None:
    home.ensure()
    assert not home.has_identity()
    with pytest.raises(NoIdentity, match="peernode init"):
        home.load_key()


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"garbage\n",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        b"\xff\xfe\x00binary",
    ],
)
def test_corrupt_key_is_a_clear_node_error(home: Home, content: bytes) -> None:
    home.ensure()
    home.key_path.write_bytes(content)

    with pytest.raises(NodeError, match="not a valid identity key") as info:
        home.load_key()
    assert str(home.key_path) in str(info.value)
    assert "\n" not in str(info.value)


def test_key_of_another_type_is_refused(home: Home) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP256R1())
    home.ensure()
    home.key_path.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(NodeError, match="not an Ed25519 key"):
        home.load_key()


async def test_node_on_a_corrupt_key_fails_cleanly(home: Home) -> None:
    home.ensure()
    home.key_path.write_bytes(b"garbage")

    with pytest.raises(NodeError, match="not a valid identity key"):
        async with Node(home, NodeConfig(watch=False)):
            pass

    # The failed open released its database thread and connection.
    assert not [t.name for t in threading.enumerate() if t.name.startswith("peernode-")]
    home.key_path.unlink()
    async with Node(home, NodeConfig(watch=False)) as node:
        assert not node.has_identity


def test_home_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(NodeError, match="cannot create home"):
        Home(blocker / "home").ensure()


def test_the_key_file_is_standard_pkcs8(home: Home) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = home.create_key()
    loaded = serialization.load_pem_private_key(home.key_path.read_bytes(), password=None)
    assert isinstance(loaded, Ed25519PrivateKey)
    assert SigningKey(loaded).public_key == key.public_key
    assert os.stat(home.key_path).st_nlink == 1
