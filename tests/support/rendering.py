"""What a Rich renderable shows, as plain text: for asserting on widgets' content."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console


def plain(renderable: Any, width: int = 60) -> str:
    """The text `renderable` prints at `width` columns, without colours or styles."""
    console = Console(width=width, file=io.StringIO(), color_system=None)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()
