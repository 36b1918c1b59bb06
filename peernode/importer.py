"""Bulk import of notes from a JSON-lines file: check everything, then sign in batches."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from peernode.clock import now_ms
from peernode.errors import BadInput
from peernode.node import DEFAULT_CHANNEL, Node
from peernode.problems import explain
from peernode.text import plural
from protocol import kinds
from protocol.errors import LocalProtocolError
from protocol.event import Event, check_draft, create_event
from protocol.identity import SigningKey

BATCH: Final = 2000
MAX_ERRORS_SHOWN: Final = 5


@dataclass(frozen=True, slots=True)
class NoteLine:
    line: int
    circle: str
    text: str
    created_at: int | None


@dataclass(frozen=True, slots=True)
class ImportSummary:
    lines: int
    imported: int
    already_present: int
    circles: tuple[str, ...]


def read_lines(path: Path) -> list[NoteLine]:
    """Parse and check every line first, so a bad file imports nothing."""
    notes: list[NoteLine] = []
    errors: list[str] = []
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"Cannot read {path} ({exc.strerror}).") from exc
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    notes.append(_parse(number, line))
                except BadInput as exc:
                    errors.append(str(exc))
        except UnicodeDecodeError as exc:
            raise BadInput(f"{path} is not UTF-8 text: save it as UTF-8 and try again.") from exc
    if errors:
        shown = " ".join(errors[:MAX_ERRORS_SHOWN])
        hidden = len(errors) - MAX_ERRORS_SHOWN
        more = f" And {plural(hidden, 'more line')}." if hidden > 0 else ""
        raise BadInput(
            f"Nothing was imported: fix {plural(len(errors), 'line')} and run it again."
            f" {shown}{more}"
        )
    return notes


def _parse(number: int, line: str) -> NoteLine:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        why = exc.msg.lower().removesuffix(" at")
        raise BadInput(f"Line {number}: this is not JSON ({why} at column {exc.colno}).") from None
    if not isinstance(obj, dict):
        raise BadInput(f'Line {number}: this is not an object like {{"circle": ..., "text": ...}}.')
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadInput(f'Line {number}: "text" is missing or empty; give it some words.')
    circle = obj.get("circle", DEFAULT_CHANNEL)
    if not isinstance(circle, str):
        raise BadInput(f'Line {number}: "circle" must be a name in quotes, like "sql-basics".')
    created_at = obj.get("created_at")
    if created_at is not None and (not isinstance(created_at, int) or isinstance(created_at, bool)):
        raise BadInput(
            f'Line {number}: "created_at" must be a whole number (milliseconds since 1970).'
        )
    note = NoteLine(number, circle, text, created_at)
    try:
        check_draft(
            author=bytes(32),
            kind=kinds.NOTE,
            circle=circle,
            body={"text": text},
            created_at=created_at or 0,
        )
    except LocalProtocolError as exc:
        raise BadInput(f"Line {number}: {explain(exc, kinds.NOTE)}") from None
    return note


def _sign(key: SigningKey, note: NoteLine, default_time: int) -> Event:
    return create_event(
        key,
        kind=kinds.NOTE,
        circle=note.circle,
        body={"text": note.text},
        created_at=note.created_at if note.created_at is not None else default_time,
    )


def _batches(notes: list[NoteLine]) -> Iterator[list[NoteLine]]:
    for start in range(0, len(notes), BATCH):
        yield notes[start : start + BATCH]


async def import_notes(
    node: Node, notes: list[NoteLine], progress: Callable[[int], None] | None = None
) -> ImportSummary:
    """Sign and store the notes in batches; `progress` gets the count done so far."""
    key = node.ensure_identity()
    # Lines without a time get consecutive milliseconds ending now, so the feed
    # keeps the file's order and nothing claims to come from the future.
    start = now_ms() - len(notes)
    imported = done = 0
    for batch in _batches(notes):
        events = [_sign(key, note, start + done + i) for i, note in enumerate(batch)]
        imported += len(await node.store_signed(events))
        done += len(batch)
        if progress is not None:
            progress(done)
    circles = tuple(sorted({note.circle for note in notes}))
    return ImportSummary(len(notes), imported, len(notes) - imported, circles)
