"""The commands of `peernode`, in the order `peernode --help` lists them: the order of use."""

from __future__ import annotations

from typing import Final

import click

from peernode.cli import (
    api,
    challenges,
    content,
    demo,
    files,
    identity,
    moderation,
    network,
    repair,
)
from peernode.cli.circles import COMMANDS as CIRCLE_COMMANDS

COMMANDS: Final[tuple[click.Command, ...]] = (
    # who I am
    identity.init,
    identity.show_id,
    identity.profile,
    # notes
    content.post,
    content.feed,
    content.import_,
    # the room
    network.serve,
    network.status,
    network.peers,
    network.connect,
    network.doctor,
    demo.demo,
    # study circles
    *CIRCLE_COMMANDS,
    files.file,
    # challenges, peer review and badges
    *challenges.COMMANDS,
    # bots, scripts and web pages
    api.api,
    # what I see and store: mute, block, hide
    *moderation.COMMANDS,
    # when the database is damaged
    repair.repair,
)
