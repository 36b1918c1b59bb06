"""Registers every command module with the group (import for side effects)."""

from __future__ import annotations

from peernode.cli import circles, content, demo, identity, network, repair  # noqa: F401
