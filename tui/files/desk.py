"""Where the study room saves copies of files, and what opens them: read once at start."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

DOWNLOADS_ENV: Final = "PEERNODE_DOWNLOADS"
"""The folder copies are saved into by default (else XDG_DOWNLOAD_DIR, ~/Downloads, ~)."""
OPENER_ENV: Final = "PEERNODE_OPENER"
"""The command that opens a saved copy (its path is added last); empty: none."""
SYSTEM_OPENERS: Final = ("xdg-open", "open")
"""Tried in order when OPENER_ENV is not set: Linux desktops, then macOS."""


@dataclass(frozen=True, slots=True)
class FileDesk:
    """downloads: where Save proposes to put a copy, and where Open puts the copy it opens.
    opener: the command (and its first arguments) that opens a file; None: there is none."""

    downloads: Path
    opener: tuple[str, ...] | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> FileDesk:
        return cls(downloads=_downloads(environ), opener=_opener(environ))


def _downloads(environ: Mapping[str, str]) -> Path:
    for name in (DOWNLOADS_ENV, "XDG_DOWNLOAD_DIR"):
        if value := environ.get(name, "").strip():
            return Path(value).expanduser()
    downloads = Path.home() / "Downloads"
    return downloads if downloads.is_dir() else Path.home()


def _opener(environ: Mapping[str, str]) -> tuple[str, ...] | None:
    if OPENER_ENV in environ:
        return tuple(shlex.split(environ[OPENER_ENV])) or None
    preferred = SYSTEM_OPENERS[::-1] if sys.platform == "darwin" else SYSTEM_OPENERS
    for command in preferred:
        if found := shutil.which(command):
            return (found,)
    return None


def desk_of(app: Any) -> FileDesk:
    """The app's desk (PeernodeApp.file_desk), or one read from the environment."""
    desk = getattr(app, "file_desk", None)
    return desk if isinstance(desk, FileDesk) else FileDesk.from_env(os.environ)
