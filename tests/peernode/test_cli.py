"""The command line on temporary homes: in-process through its error funnel, and as the real
command (`peernode`, `python -m peernode`) where the process itself is what is tested."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from peernode.cli import cli, tui_launch
from peernode.home import Home
from peernode.storage.store import Store
from protocol import kinds
from protocol.event import load_verified
from protocol.identity import fingerprint
from tests.conftest import RunCli

REQUIRED_JSON_FIELDS = {"id", "author", "kind", "circle", "created_at", "body"}


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def fails(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """A failed command: non-zero exit, exactly one line on stderr, no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("peernode: ")
    for word in words:
        assert word in lines[0]
    return lines[0]


def profile_names(home: Path) -> list[str]:
    store = Store(home / "peernode.db")
    try:
        return [load_verified(row.raw).body["name"] for row in store.feed(kinds=[kinds.PROFILE])]
    finally:
        store.close()


def feed_json(invoke_cli: RunCli, home: Path, *args: str) -> list[dict[str, Any]]:
    lines = ok(invoke_cli("feed", "--json", "--home", str(home), *args)).splitlines()
    entries = [json.loads(line) for line in lines]
    for entry in entries:
        assert entry.keys() >= REQUIRED_JSON_FIELDS
    return entries


@pytest.fixture
def node_home(tmp_path: Path, invoke_cli: RunCli) -> Path:
    home = tmp_path / "ana"
    ok(invoke_cli("--home", str(home), "init", "--name", "Ana", "--learning", "rust"))
    return home


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory: pytest.TempPathFactory, invoke_cli: RunCli) -> Path:
    """An initialised home for tests that change nothing in it."""
    home = tmp_path_factory.mktemp("shared") / "sam"
    ok(invoke_cli("--home", str(home), "init", "--name", "Sam", "--learning", "rust"))
    return home


def test_init_is_idempotent_for_the_same_name(tmp_path: Path, invoke_cli: RunCli) -> None:
    home = tmp_path / "ana"

    created = ok(invoke_cli("init", "--name", "Ana", "--home", str(home)))
    again = ok(invoke_cli("--home", str(home), "init", "--name", "Ana"))
    key = json.loads(ok(invoke_cli("id", "--json", "--home", str(home))))

    assert created == f"Created your identity: Ana, fingerprint {key['fingerprint']}.\n"
    assert again == f"Already set up as Ana, fingerprint {key['fingerprint']}.\n"  # the same key
    assert stat.S_IMODE((home / "identity.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700

    line = fails(invoke_cli("init", "--name", "Bob", "--home", str(home)), "Ana")
    assert "profile --name" in line
    assert profile_names(home) == ["Ana"]  # one profile: the second init published nothing


def test_id(shared_home: Path, invoke_cli: RunCli) -> None:
    name, shown = ok(invoke_cli("id", "--home", str(shared_home))).split()
    key = ok(invoke_cli("id", "--hex", "--home", str(shared_home))).strip()
    as_json = json.loads(ok(invoke_cli("--home", str(shared_home), "id", "--json")))

    assert name == "Sam"
    assert shown == as_json["fingerprint"] == fingerprint(bytes.fromhex(key))
    assert as_json["key"] == key
    assert as_json["name"] == "Sam"
    assert as_json["learning"] == "rust"


def test_post_and_feed(node_home: Path, invoke_cli: RunCli) -> None:
    home = str(node_home)
    lobby_id = json.loads(ok(invoke_cli("post", "--home", home, "--json", "hello lobby")))["id"]
    said = ok(invoke_cli("--home", home, "post", "--channel", "algebra", "eigen *values*"))
    reply = json.loads(
        ok(invoke_cli("post", "--home", home, "--json", "--reply-to", lobby_id[:8], "a reply"))
    )
    replied = ok(invoke_cli("post", "--home", home, "--reply-to", reply["id"][:10], "thanks"))

    entries = feed_json(invoke_cli, node_home)

    notes = {e["id"]: e for e in entries if e["kind"] == "peernode/note@1"}
    assert notes[lobby_id]["circle"] == "lobby"
    assert notes[lobby_id]["body"] == {"text": "hello lobby"}
    (algebra_id,) = [i for i, e in notes.items() if e["circle"] == "algebra"]
    assert said == f"Posted your note in #algebra (id {algebra_id[:12]}).\n"
    assert replied.startswith(f"Posted your reply to {reply['id'][:12]} in #lobby (id ")
    assert notes[reply["id"]]["refs"] == {"reply_to": lobby_id}
    assert {e["author"] for e in entries} == {reply["author"]}
    assert [e["created_at"] for e in entries] == sorted(e["created_at"] for e in entries)
    assert [e["id"] for e in feed_json(invoke_cli, node_home, "--limit", "2")] == [
        e["id"] for e in entries[-2:]
    ]

    text = ok(invoke_cli("feed", "--home", home, "--channel", "algebra"))
    assert "eigen *values*" in text
    assert "#algebra" in text
    assert "Ana" in text
    assert "hello lobby" not in text


def test_profile_update_publishes_a_new_version(node_home: Path, invoke_cli: RunCli) -> None:
    home = str(node_home)
    shown = json.loads(ok(invoke_cli("profile", "--home", home, "--name", "Ana B", "--json")))

    assert shown["name"] == "Ana B"
    assert shown["learning"] == "rust"  # kept
    profiles = [e for e in feed_json(invoke_cli, node_home) if e["kind"] == "peernode/profile@1"]
    assert [p["body"]["name"] for p in profiles] == ["Ana", "Ana B"]
    assert ok(invoke_cli("id", "--home", home)).split()[:2] == ["Ana", "B"]


def test_home_from_the_environment_and_the_option(tmp_path: Path, invoke_cli: RunCli) -> None:
    env = {"PEERNODE_HOME": str(tmp_path / "env-home")}

    env_key = ok(invoke_cli("init", "--name", "Env", env=env)).split()[-1]
    opt_home = str(tmp_path / "opt-home")
    opt_key = ok(invoke_cli("init", "--name", "Opt", "--home", opt_home, env=env)).split()[-1]

    assert profile_names(tmp_path / "env-home") == ["Env"]
    assert opt_key != env_key  # --home won: a new key in a new home
    assert (tmp_path / "opt-home" / "identity.key").exists()
    assert sorted(os.listdir(tmp_path)) == ["env-home", "opt-home"]


def test_the_nearest_home_wins(tmp_path: Path, invoke_cli: RunCli) -> None:
    """--home after a command beats one before it, at every level of the command line."""
    near, far = str(tmp_path / "near"), str(tmp_path / "far")
    ok(invoke_cli("--home", near, "init", "--name", "Near"))
    ok(invoke_cli("init", "--home", far, "--name", "Far"))
    ok(invoke_cli("circle", "--home", near, "create", "sql", "--title", "SQL"))

    assert ok(invoke_cli("--home", far, "id", "--home", near)).split()[0] == "Near"
    assert ok(invoke_cli("--home", far, "circle", "--home", near, "list")).split()[1] == "sql"
    assert ok(invoke_cli("--home", far, "circle", "list", "--home", near)).split()[1] == "sql"
    assert ok(invoke_cli("--home", near, "circle", "--home", far, "list")) == ""


def commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and group below `group`, as the words that name it."""
    found = []
    for name, command in group.commands.items():
        found.append((*path, name))
        if isinstance(command, click.Group):
            found += commands(command, (*path, name))
    return found


def test_help_lists_the_commands_in_order_of_use(invoke_cli: RunCli) -> None:
    listed = ok(invoke_cli("--help")).split("Commands:\n")[1]

    assert [line.split()[0] for line in listed.splitlines()] == [
        "init", "id", "profile", "post", "feed", "import",
        "serve", "status", "peers", "connect", "doctor", "demo",
        "circle", "meeting", "ask", "answer", "resolve", "questions", "helpers", "resource",
        "edit", "delete", "report", "file", "challenge", "submit", "review", "badges", "badge",
        "api", "mute", "unmute", "block", "unblock", "hide", "unhide", "moderation", "repair",
    ]  # fmt: skip


def test_every_command_takes_home(invoke_cli: RunCli) -> None:
    for words in commands(cli):
        assert "\n  --home DIRECTORY " in ok(invoke_cli(*words, "--help")), words


ERRORS: list[tuple[list[str], list[str]]] = [
    (["post", "--channel", "Bad Circle", "text"], ["circle"]),
    (["post", "   "], ["The note is empty: write something."]),
    (["post", "--reply-to", "ab" * 31 + "zz", "text"], ["is not an event id"]),
    (["post", "x\udcff"], ["The note holds characters that are not text"]),
    (["import", "/no/such/file.jsonl"], ["does not exist"]),
    (["no-such-command"], ["no-such-command"]),
]


def test_errors_are_one_line(shared_home: Path, invoke_cli: RunCli) -> None:
    for args, words in ERRORS:
        try:
            fails(invoke_cli(*args, "--home", str(shared_home)), *words)
        except AssertionError as exc:
            raise AssertionError(f"peernode {args}: {exc}") from None

    store = Store(shared_home / "peernode.db")
    try:
        assert store.count() == 1  # the profile of init, nothing else
    finally:
        store.close()


def test_corrupt_key_is_one_line(tmp_path: Path, invoke_cli: RunCli) -> None:
    home = Home(tmp_path / "home").ensure()
    home.key_path.write_text("garbage")
    fails(invoke_cli("id", "--home", str(home.path)), "not a valid identity key")


def test_id_never_creates_a_key(tmp_path: Path, invoke_cli: RunCli) -> None:
    home = Home(tmp_path / "home")
    fails(invoke_cli("id", "--home", str(home.path)), "no identity", "peernode init --name NAME")
    assert not home.key_path.exists()


def test_a_lost_key_is_never_silently_replaced(node_home: Path, invoke_cli: RunCli) -> None:
    home = Home(node_home)
    old_key = ok(invoke_cli("id", "--hex", "--home", str(node_home))).strip()
    ok(invoke_cli("post", "--home", str(node_home), "signed by the old key"))
    home.key_path.unlink()

    for args in (("id",), ("post", "a note"), ("profile",), ("init", "--name", "Ana")):
        line = fails(invoke_cli(*args, "--home", str(node_home)), "is missing")
        assert f"copy your key file back to {home.key_path}" in line, args
        assert "peernode init --new --name NAME" in line, args
        assert not home.key_path.exists(), args

    created = ok(invoke_cli("init", "--new", "--name", "Ana", "--home", str(node_home)))
    new_key = ok(invoke_cli("id", "--hex", "--home", str(node_home))).strip()
    assert created.startswith("Created your identity: Ana, fingerprint ")
    assert new_key != old_key
    assert ok(invoke_cli("id", "--home", str(node_home))).split() == [
        "Ana",
        fingerprint(bytes.fromhex(new_key)),
    ]
    assert "signed by the old key" in ok(invoke_cli("feed", "--home", str(node_home)))


def test_a_damaged_key_is_moved_aside_only_when_asked(tmp_path: Path, invoke_cli: RunCli) -> None:
    home = Home(tmp_path / "home").ensure()
    home.key_path.write_text("garbage")
    line = fails(invoke_cli("post", "--home", str(home.path), "hi"), "not a valid identity key")
    assert "peernode init --new --name NAME" in line
    assert home.key_path.read_text() == "garbage"

    said = ok(invoke_cli("init", "--new", "--name", "Bo", "--home", str(home.path)))
    (aside,) = home.path.glob("identity.key.*.old")
    assert f"the old key file is kept as {aside}" in said
    assert aside.read_text() == "garbage"
    assert ok(invoke_cli("id", "--home", str(home.path))).split()[0] == "Bo"


def test_unreadable_database_is_one_line(tmp_path: Path, invoke_cli: RunCli) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "peernode.db").write_bytes(b"not a database" * 300)
    fails(invoke_cli("feed", "--home", str(home)), "cannot open the database")


def test_the_real_command_exits_with_one_line_on_stderr(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    """The installed `peernode` and `python -m peernode`, as processes: output, exit codes."""
    broken = Home(tmp_path / "broken").ensure()
    broken.key_path.write_text("garbage")
    fine = tmp_path / "fine"
    installed = Path(sys.executable).with_name("peernode")
    entry = [str(installed)] if installed.exists() else [sys.executable, "-m", "peernode"]
    started = [
        subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env
        )
        for argv in (
            [*entry, "init", "--name", "Ana", "--home", str(fine)],
            [sys.executable, "-m", "peernode", "--home", str(broken.path), "id"],
            [sys.executable, "-m", "peernode", "no-such-command"],
        )
    ]
    outputs = [process.communicate(timeout=120) for process in started]
    created, not_a_key, unknown = [
        subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        for process, (stdout, stderr) in zip(started, outputs, strict=True)
    ]

    assert ok(created).startswith("Created your identity: Ana, fingerprint ")
    assert created.stderr == ""
    fails(not_a_key, "not a valid identity key")
    assert not_a_key.returncode == 1
    fails(unknown, "no-such-command", "try 'peernode --help'")
    assert unknown.returncode == 2


def test_no_command_opens_the_study_room(
    tmp_path: Path, invoke_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[tuple[Home, bool]] = []
    monkeypatch.setattr(
        tui_launch, "open_tui", lambda home, *, demo=False: opened.append((home, demo))
    )

    ok(invoke_cli("--home", str(tmp_path / "room")))
    ok(invoke_cli("demo", "--home", str(tmp_path / "demo")))

    assert opened == [(Home(tmp_path / "room"), False), (Home(tmp_path / "demo"), True)]
