"""Registers every command module with the group (import for side effects)."""

from __future__ import annotations

from peernode.cli.app import cli
from peernode.cli.circles import COMMANDS as CIRCLE_COMMANDS

for _command in CIRCLE_COMMANDS:  # first, as before: `peernode --help` lists them first
    cli.add_command(_command)

from peernode.cli import content, demo, identity, network, repair  # noqa: E402, F401
