"""Progress of a long file command on stderr: a bar redrawn in place on a terminal,
a line every few tenths of a second otherwise, JSON lines on stdout with --json."""

from __future__ import annotations

import sys
import threading
import time
from typing import Final

import click

from peernode.cli.options import emit_json
from peernode.files import Progress
from peernode.files.text import progress_bar, progress_text

SHOW_EVERY: Final = 0.5
"""Seconds between two progress lines (the first one too, for `Shown(patient=True)`)."""


class Shown:
    """Shows a Progress at most every SHOW_EVERY seconds (always the last one).

    label: words before the bar ("hashing week1.pdf"); patient: say nothing until the
    work has taken SHOW_EVERY, so quick work prints no bar at all. Safe to call from
    the thread that does the work."""

    def __init__(
        self, as_json: bool, *, label: str = "", patient: bool = False, every: float | None = None
    ) -> None:
        self._as_json = as_json
        self._label = f"{label} " if label else ""
        self._every = SHOW_EVERY if every is None else every
        self._patient = patient
        self._last = time.monotonic() if patient else 0.0
        self._shown = False
        self._lock = threading.Lock()
        self._terminal = not as_json and sys.stderr.isatty()

    def show(self, progress: Progress, *, last: bool = False) -> None:
        with self._lock:
            now = time.monotonic()
            if last and self._patient and not self._shown:
                return  # it was quick: no bar at all
            if not last and now - self._last < self._every:
                return
            self._last = now
            self._shown = True
            self._write(progress, last)

    def _write(self, progress: Progress, last: bool) -> None:
        if self._as_json:
            emit_json(
                {
                    "have_bytes": progress.have_bytes,
                    "size": progress.size,
                    "rate": progress.rate,
                    "sources": progress.sources,
                    "done": progress.done,
                }
            )
        elif self._terminal:  # one line, redrawn in place
            end = "\n" if last else ""
            bar = progress_bar(progress)
            click.echo(f"\r{self._label}{bar}\x1b[K{end}", nl=False, err=True)
        else:
            click.echo(f"{self._label}{progress_text(progress)}", err=True)


class Counted:
    """Bytes copied so far (told from the copying thread), shown by a `Shown` as a Progress."""

    def __init__(self, size: int, shown: Shown) -> None:
        self._size = size
        self._shown = shown
        self._copied = 0
        self._started = time.monotonic()

    def add(self, count: int) -> None:
        self._copied += count
        self._shown.show(self._progress(done=False))

    def finish(self) -> None:
        self._shown.show(self._progress(done=True), last=True)

    def _progress(self, *, done: bool) -> Progress:
        elapsed = max(time.monotonic() - self._started, 1e-6)
        have = self._size if done else min(self._copied, self._size)
        return Progress(b"", have, self._size, self._copied / elapsed, 0, done)
