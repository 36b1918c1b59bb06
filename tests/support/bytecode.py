"""Bytecode for the many short Python processes the tests start, compiled once per machine."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Final

PYCACHE: Final = Path(tempfile.gettempdir()) / f"peernode-tests-pycache-{os.getuid()}"


def cached_bytecode(env: dict[str, str]) -> dict[str, str]:
    """`env`, where PYTHONDONTWRITEBYTECODE becomes a bytecode cache outside the tree.

    With that variable set, every `peernode` process a test starts compiled each module it
    imports again (about a third of its CPU time). Kept in a folder of the temporary
    directory (PYTHONPYCACHEPREFIX), bytecode is still never written beside the sources.
    """
    if env.get("PYTHONDONTWRITEBYTECODE") and not env.get("PYTHONPYCACHEPREFIX"):
        del env["PYTHONDONTWRITEBYTECODE"]
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env
