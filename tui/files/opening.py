"""Opening a saved copy with the system's opener (xdg-open, open, or the one configured)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

from peernode.files.text import opener_failed_text

OPEN_TIMEOUT: Final = 10.0
"""Seconds to wait for the opener to hand the file over (xdg-open returns at once)."""


async def open_with(opener: tuple[str, ...], path: Path) -> str:
    """Run `opener` on `path`; "" when it worked, else one sentence that says what to do."""
    name = Path(opener[0]).name
    try:
        process = await asyncio.create_subprocess_exec(
            *opener,
            str(path),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # a viewer it starts outlives the study room
        )
    except OSError:
        return opener_failed_text(name, path)
    try:
        code = await asyncio.wait_for(process.wait(), OPEN_TIMEOUT)
    except TimeoutError:
        return ""  # still running: some openers stay until the viewer closes
    return "" if code == 0 else opener_failed_text(name, path)
