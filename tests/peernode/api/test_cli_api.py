"""`peernode api`: url, token add, list, remove."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from peernode.api import TokenBook
from peernode.home import Home
from peernode.net.control import RuntimeInfo
from tests.conftest import RunCli
from tests.peernode.api.conftest import ApiNode
from tests.support.nodes import free_port
from tests.support.waiting import wait_for

Result = subprocess.CompletedProcess[str]


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


def _serve_until(home: Path, ready: Callable[[], bool], invoke_cli: RunCli, *args: str) -> Result:
    """`peernode serve ARGS` in this process until `ready()` holds, then SIGTERM, as a
    service manager stops it (a thread waits; the command's loop takes the signal)."""
    seen: list[bool] = []

    def stop_when_ready() -> None:
        try:
            wait_for(ready, "the node to serve", 30)
            seen.append(True)
        finally:  # also when it never got ready: the command must end
            os.kill(os.getpid(), signal.SIGTERM)

    watcher = threading.Thread(target=stop_when_ready)
    watcher.start()
    try:
        result = invoke_cli("--home", str(home), "serve", "--port", "0", "--no-mdns", *args)
    finally:
        watcher.join(timeout=30)
    assert seen, result.stderr
    return result


def test_serve_with_an_api_port_and_with_no_api(invoke_cli: RunCli, tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert invoke_cli("--home", str(home), "init", "--name", "Ada").returncode == 0
    port = free_port()

    def answers() -> bool:
        url = f"http://127.0.0.1:{port}/v1/openapi.json"
        try:
            with urllib.request.urlopen(url) as response:
                return bool(response.status == 200)
        except urllib.error.HTTPError as refused:  # holds its connection: close it
            refused.close()
        except OSError:
            pass
        return False

    served = _serve_until(home, answers, invoke_cli, "--api-port", str(port))
    assert served.returncode == 0, served.stderr
    assert f"local API at http://127.0.0.1:{port}" in served.stderr

    def no_api() -> bool:
        info = RuntimeInfo.read(Home(home))
        return info is not None and info.port is not None and info.api_port is None

    quiet = _serve_until(home, no_api, invoke_cli, "--no-api")
    assert quiet.returncode == 0, quiet.stderr
    assert "local API" not in quiet.stderr
    both = invoke_cli("--home", str(home), "serve", "--no-api", "--api-port", str(port))
    assert both.returncode != 0
    assert "do not go together" in both.stderr


def test_serve_on_a_taken_api_port_says_what_to_do(invoke_cli: RunCli, tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert invoke_cli("--home", str(home), "init", "--name", "Ada").returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke_cli(
            "--home", str(home), "serve", "--port", "0", "--no-mdns", "--api-port", str(port)
        )
    assert result.returncode != 0
    assert f"port {port} of 127.0.0.1 is taken" in result.stderr
    assert RuntimeInfo.read(Home(home)) is None
