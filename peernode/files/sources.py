"""What the learner asks to share, looked at before anything is copied: one sentence
for each path that cannot be shared, and the bytes a progress bar counts.

Everything here blocks (it looks at the disk): callers run it with asyncio.to_thread.
"""

from __future__ import annotations

import os
from pathlib import Path

from peernode.files.text import size_text


def problem_of(path: Path, max_size: int) -> str | None:
    """Why `path` cannot be shared, as one sentence that says what to do, or None."""
    if path.is_symlink():
        return f"{path} is a symbolic link: share the file it points to instead."
    if not path.exists():
        return f"{path} does not exist: check its name and folder."
    if not (path.is_file() or path.is_dir()):
        return f"{path} is neither a file nor a folder: share a regular file or a folder."
    wanted = os.R_OK | (os.X_OK if path.is_dir() else 0)
    if not os.access(path, wanted):
        return f"{path} cannot be read by you: copy it somewhere you can read, then share the copy."
    if path.is_file() and (size := path.stat().st_size) > max_size:
        return (
            f"{path} is too big to share ({size_text(size)}; a file may be at most"
            f" {size_text(max_size)}): split it or share a smaller version."
        )
    return None


def bytes_to_copy(path: Path) -> int:
    """The bytes sharing `path` hashes and copies: its size, or its regular files' sizes."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _dirs, files in os.walk(path, followlinks=False):
        for name in files:
            file = Path(folder) / name
            if not file.is_symlink() and file.is_file():
                total += file.stat().st_size
    return total
