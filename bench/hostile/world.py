"""The seed homes (victim and honest peer, 50,000 notes each) and what an attacker knows.

Built once per work directory and copied for every attack. Both homes hold the same
notes, signed in parallel by a few authors and written with the store's own insert, so a
run starts in sync: 49,000 ordinary notes by 20 authors and 1,000 large events (about
60 KB each, of a kind the node does not know, which it stores unchanged). The victim has
created a circle. `world.json` says, for the attacker, what any peer can learn over the
wire: the victim's (created_at, id) items (reconciliation shows them), the ids of the
large events, and the circle's current version.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from peernode.home import Home
from peernode.storage.store import Store
from protocol.event import Event, create_event
from protocol.identity import SigningKey

NOTES = 50_000
LARGE = 1_000
AUTHORS = 20
LARGE_KIND = "study/blob@1"
LARGE_TEXT = 61_000  # characters: the event is just under the 60 KiB limit
CIRCLE = "rust"
CHUNK = 2_500
START_MS = 1_700_000_000_000
HOMES = ("victim", "honest")


@dataclass(frozen=True, slots=True)
class World:
    """The seed on disk: homes to copy and the facts the runner and attacker use."""

    root: Path
    facts: dict[str, object]

    def home(self, name: str) -> Path:
        return self.root / name

    @property
    def items_path(self) -> Path:
        return self.root / "items.bin"

    def key(self, name: str) -> str:
        return str(self.facts[f"{name}_key"])

    def token(self, name: str) -> str:
        return str(self.facts[f"{name}_token"])


def _sign(start: int, stop: int) -> list[Event]:
    authors = [SigningKey.from_seed(bytes([i + 1]) * 32) for i in range(AUTHORS + 1)]
    events = []
    for n in range(start, stop):
        if n < LARGE:
            kind, body = LARGE_KIND, {"text": f"{n:06}" + "x" * LARGE_TEXT}
            key = authors[AUTHORS]
        else:
            kind = "peernode/note@1"
            body = {"text": f"note {n}: a study note of ordinary length. " * 4}
            key = authors[n % AUTHORS]
        events.append(
            create_event(key, kind=kind, circle="lobby", body=body, created_at=START_MS + n)
        )
    return events


def _cli(home: Path, *args: str) -> str:
    argv = [sys.executable, "-m", "peernode", "--home", str(home), *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"peernode {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def _token(home: Path) -> str:
    out = _cli(home, "api", "token", "add", "bench", "--scope", "post")
    return next(word for word in out.split() if word.startswith("pn1_"))


def _fill(homes: list[Path]) -> None:
    stores = [Store(Home(home).db_path) for home in homes]
    ranges = [(start, min(NOTES, start + CHUNK)) for start in range(0, NOTES, CHUNK)]
    # Forked before this process starts any thread or loop.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(os.cpu_count(), mp_context=context) as pool:
        for events in pool.map(_sign, *zip(*ranges, strict=True)):
            for store in stores:
                store.insert_events(events, received_at=0)
    for store in stores:
        store.close()


def _facts(root: Path) -> dict[str, object]:
    victim = Home(root / "victim").db_path
    with sqlite3.connect(f"file:{victim}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT created_at, id FROM events ORDER BY created_at, id").fetchall()
        large = db.execute("SELECT id FROM events WHERE kind = ?", (LARGE_KIND,)).fetchall()
        circle = db.execute(
            "SELECT raw FROM events WHERE kind = 'peernode/circle@1' AND circle = ?", (CIRCLE,)
        ).fetchone()
    with (root / "items.bin").open("wb") as out:
        for created_at, event_id in rows:
            out.write(created_at.to_bytes(8, "big") + event_id)
    facts: dict[str, object] = {
        "events": len(rows),
        "large_ids": [bytes(row[0]).hex() for row in large],
        "circle": CIRCLE,
        "circle_raw": bytes(circle[0]).hex(),
    }
    for name in HOMES:
        facts[f"{name}_key"] = json.loads(_cli(root / name, "id", "--json"))["key"]
    return facts


def build(root: Path) -> World:
    """The seed under `root`, built unless `root/world.json` is there already."""
    done = root / "world.json"
    if done.exists():
        return World(root, json.loads(done.read_text()))
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for name in HOMES:
        _cli(root / name, "init", "--name", name.capitalize())
    _cli(root / "victim", "circle", "create", CIRCLE, "--title", "Rust, from the book")
    tokens = {f"{name}_token": _token(root / name) for name in HOMES}
    _fill([root / name for name in HOMES])
    facts = _facts(root) | tokens
    done.write_text(json.dumps(facts))
    return World(root, facts)


def items(world: World) -> list[tuple[int, bytes]]:
    """The victim's (created_at, id) items in reconciliation order."""
    data = world.items_path.read_bytes()
    return [
        (int.from_bytes(data[i : i + 8], "big"), data[i + 8 : i + 40])
        for i in range(0, len(data), 40)
    ]


def copy_home(world: World, name: str, to: Path) -> Path:
    """A fresh copy of a seed home for one run."""
    shutil.copytree(world.home(name), to, ignore=shutil.ignore_patterns("node.json", "*.log"))
    return to
