"""Whether a process of this machine is alive, for records that name a pid (node.json,
the demo room's temporary authors)."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True
