"""The `peernode` command line."""

from __future__ import annotations

from peernode.cli.app import main

__all__ = ["main"]
