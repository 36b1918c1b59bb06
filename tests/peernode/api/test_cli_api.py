"""`peernode api`: url, token add, list, remove."""

from __future__ import annotations

import json

from peernode.api import TokenBook
from peernode.home import Home
from tests.conftest import RunCli
from tests.peernode.api.conftest import ApiNode


def test_token_add_list_remove(invoke_cli: RunCli, home: Home) -> None:
    made = invoke_cli("api", "token", "add", "bot", "--scope", "post", "--home", str(home.path))
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("pn1_")
    assert secret not in (home.path / "api_tokens.json").read_text()  # stored hashed
    token = TokenBook(home).find(secret)
    assert token is not None
    assert token.allows("post")
    assert not token.allows("admin")
    listed = invoke_cli("api", "token", "list", "--home", str(home.path))
    assert listed.stdout.startswith("bot: may post")
    as_json = invoke_cli("api", "token", "list", "--json", "--home", str(home.path))
    assert json.loads(as_json.stdout)["scopes"] == ["post"]
    again = invoke_cli("api", "token", "add", "bot", "--home", str(home.path))
    assert again.returncode != 0
    assert "remove it first" in again.stderr
    removed = invoke_cli("api", "token", "remove", "bot", "--home", str(home.path))
    assert removed.returncode == 0
    assert TokenBook(home).find(secret) is None
    gone = invoke_cli("api", "token", "remove", "bot", "--home", str(home.path))
    assert "no token named" in gone.stderr


def test_a_bad_scope_or_origin_is_refused(invoke_cli: RunCli, home: Home) -> None:
    scope = invoke_cli("api", "token", "add", "x", "--scope", "root", "--home", str(home.path))
    assert scope.returncode != 0
    origin = invoke_cli("api", "token", "add", "x", "--origin", "evil", "--home", str(home.path))
    assert "web origin" in origin.stderr


def test_url_without_a_running_node_says_what_to_do(invoke_cli: RunCli, home: Home) -> None:
    result = invoke_cli("api", "url", "--home", str(home.path))
    assert result.returncode != 0
    assert "peernode serve" in result.stderr


async def test_url_of_the_running_node(invoke_cli: RunCli, api_node: ApiNode) -> None:
    result = invoke_cli("api", "url", "--home", str(api_node.node.home.path))
    assert result.stdout.strip() == api_node.base
