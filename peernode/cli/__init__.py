"""The `peernode` command line."""

from __future__ import annotations

from peernode.cli.app import cli, main, run

__all__ = ["cli", "main", "run"]
