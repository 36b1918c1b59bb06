"""The challenge and badge commands on four learners' homes; `badge verify` in a fresh process."""

from __future__ import annotations

import asyncio
import json
import re
from contextlib import AsyncExitStack
from pathlib import Path

from peernode.home import Home
from peernode.node import Node, NodeConfig
from tests.conftest import RunCli
from tests.peernode.test_cli_circles import fails, ok, one

LONG_HEX = re.compile(r"[0-9a-f]{64}")
"""A raw key or id: never in what a person reads."""


def sync_homes(*homes: Path) -> None:
    """What gossip does between the learners' nodes: every home gets every event."""

    async def run() -> None:
        async with AsyncExitStack() as stack:
            nodes = [
                await stack.enter_async_context(Node(Home(home), NodeConfig(watch=False)))
                for home in homes
            ]
            for source in nodes:
                raws = await source.raw_events([i for _, i in await source.time_index()])
                for target in nodes:
                    await target.ingest(raws)

    asyncio.run(run())


def readable(text: str) -> str:
    assert not LONG_HEX.search(text), text
    return text


def test_a_badge_from_the_command_line(tmp_path: Path, invoke_cli: RunCli, run_cli: RunCli) -> None:
    ana, ben, cat, dan = homes = [tmp_path / name for name in ("ana", "ben", "cat", "dan")]

    def run(home: Path, *args: str) -> str:
        return ok(invoke_cli("--home", str(home), *args))

    for home in homes:
        run(home, "init", "--name", home.name.title())
    run(ana, "circle", "create", "sql", "--title", "SQL basics")
    sync_homes(*homes)
    for home in homes[1:]:
        run(home, "circle", "join", "sql")
    sync_homes(*homes)
    created = json.loads(
        run(ana, "challenge", "create", "sql", "Joins", "--question", "Who never ordered?",
            "--task", "Load the data", "--task", "Write three joins",
            "--criterion", "Correct: the rows asked for", "--criterion", "Explained: why",
            "--badge", "Join explorer", "--json")
    )  # fmt: skip
    challenge = created["id"]
    sync_homes(*homes)
    assert "You are on “Joins”" in run(ben, "challenge", "start", challenge[:12])
    fails(invoke_cli("--home", str(ben), "submit", challenge[:12], "--file", "nowhere.sql"),
          "no file 'nowhere.sql' on this laptop", "peernode file list")  # fmt: skip
    joins = tmp_path / "joins.sql"
    joins.write_text("SELECT * FROM a LEFT JOIN b USING (id);\n")
    work = one(
        invoke_cli("--home", str(ben), "submit", challenge[:12], "--text", "# Joins",
                   "--file", str(joins), "--file", "ab" * 32, "--json")
    )["id"]  # fmt: skip
    shared = one(invoke_cli("--home", str(ben), "file", "list", "sql", "--json"))
    assert shared["name"] == "joins.sql"
    assert "  File: joins.sql (40 bytes, on this laptop, id" in readable(
        run(ben, "challenge", "show", challenge[:12])
    )
    fails(invoke_cli("--home", str(ben), "review", work[:12], "--approve"), "your own work")
    sync_homes(*homes)
    said = run(cat, "review", work[:12], "--approve", "--works", "Neat", "--question", "Why?")
    assert "Reviewed a submission for “Joins”: you approved it in #sql" in said
    fails(invoke_cli("--home", str(dan), "review", work[:12], "--approve", "--meets", "1"),
          "every criterion")  # fmt: skip
    run(dan, "review", work[:12], "--approve", "--suggestion", "Alias the tables")
    sync_homes(*homes)

    everywhere = [run(home, "badges", "--json") for home in homes]
    assert all(found == everywhere[0] for found in everywhere)
    (badge,) = [json.loads(line) for line in everywhere[0].splitlines()]
    assert badge["badge"] == "Join explorer"
    assert len(badge["approved_by"]) == 2
    assert "Ben (" in readable(run(cat, "badges"))
    listed = readable(run(cat, "challenge", "list", "sql"))
    assert "“Joins” by Ana (" in listed
    assert "1 learner on it" in listed
    page_of_circle = readable(run(cat, "circle", "show", "sql"))
    assert "Learning challenges (who is on which):" in page_of_circle
    assert "  “Joins”: Ben (" in page_of_circle
    shown = readable(run(cat, "challenge", "show", challenge[:12]))
    assert "  File: joins.sql (40 bytes, not here yet, id" in shown
    assert "  File abababababab: not known here yet" in shown
    assert "Suggestion" not in shown
    assert "One suggestion: Alias the tables" in shown
    assert "✓ meets: Correct" in shown

    fails(invoke_cli("--home", str(cat), "review", work[:12]), "--approve or --revise")
    fails(invoke_cli("--home", str(ben), "challenge", "update", challenge[:12], "--reviews", "3"),
          "only its author")  # fmt: skip
    run(ana, "challenge", "update", challenge[:12], "--reviews", "3", "--task", "Only one task")
    updated = readable(run(ana, "challenge", "show", challenge[:12]))
    assert "2 versions" in updated
    assert "It needs 3 approvals from circle members" in updated
    assert "1. Only one task" in updated
    assert "2. Write three joins" not in updated
    assert "badge earned" in updated  # judged by the version it answered

    forked = one(
        invoke_cli("--home", str(cat), "challenge", "fork", challenge[:12], "--title",
                   "Joins, my way", "--reviews", "1", "--resource", "https://e.org/joins",
                   "--badge-image", "cd" * 32, "--file", str(joins), "--json")
    )  # fmt: skip
    mine = readable(run(cat, "challenge", "show", forked["id"][:12]))
    assert "  File: joins.sql (40 bytes, on this laptop, id" in mine
    assert "“Joins, my way” in #sql, by Cat (" in mine
    assert "  Resource: https://e.org/joins\n" in mine
    assert f"Made from challenge {challenge[:12]}." in mine
    assert "(image: file cdcdcdcdcdcd)" in mine
    assert "It needs 1 approval from circle members" in mine

    page = tmp_path / "badge.html"
    run(ben, "badge", "export", challenge[:12], "--output", str(page))
    fails(invoke_cli("--home", str(ben), "badge", "export", work[:12], "--output", str(page)),
          "exists already", "--force")  # fmt: skip
    run(ben, "badge", "export", work[:12], "--output", str(page), "--force")
    credential = tmp_path / "badge.json"
    run(ben, "badge", "export", work[:12], "-o", str(credential), "--format", "openbadges")
    assert "OpenBadgeCredential" in json.loads(credential.read_text())["type"]

    # A fifth machine: a fresh process with no store at all.
    nowhere = tmp_path / "nobody"
    for file in (page, credential):
        result = run_cli("--home", str(nowhere), "badge", "verify", str(file))
        assert result.returncode == 0, result.stderr
        assert "✓ The badge verifies" in readable(result.stdout)
        assert "Ben (" in result.stdout
        assert "Cat (" in result.stdout
        assert "Dan (" in result.stdout
    assert not nowhere.exists()

    revised = one(invoke_cli("--home", str(ben), "submit", challenge[:12],
                             "--file", shared["id"][:10], "--json"))  # fmt: skip
    assert revised["body"]["files"] == [shared["id"]]


def test_a_forged_or_foreign_file_fails_verification(tmp_path: Path, invoke_cli: RunCli) -> None:
    text = json.loads(Path(__file__).resolve().parents[2].joinpath(
        "docs", "vectors", "challenges.json").read_text())  # fmt: skip
    proofs = {proof["name"]: proof for proof in text["proofs"]}

    def verify(proof: dict[str, object]) -> tuple[int, str, str]:
        file = tmp_path / "proof.json"
        file.write_text(json.dumps({"format": "peernode-badge-proof/1", **proof}))
        result = invoke_cli("badge", "verify", str(file))
        return result.returncode, result.stdout, result.stderr

    code, out, _ = verify(proofs["valid"])
    assert code == 0, out
    code, _, err = verify(proofs["forged"])
    assert code == 3
    assert "event 5" in err
    assert "changed after it was made" in err
    code, _, err = verify(proofs["self-review"])
    assert code == 3
    assert "needs 2 approvals from circle members and 1 count" in readable(err)
    assert "reviewed their own work" in err
    not_a_badge = tmp_path / "note.txt"
    not_a_badge.write_text("hello")
    result = invoke_cli("badge", "verify", str(not_a_badge))
    fails(result, "not a badge file")
