"""The study-circle commands, one module per command group; COMMANDS in the order of use.

Nothing registers itself on import: the application adds COMMANDS to its group.
"""

from __future__ import annotations

from typing import Final

import click

from peernode.cli.circles import circle, edits, meeting, questions, report, resource

COMMANDS: Final[tuple[click.Command, ...]] = (
    circle.circle,
    meeting.meeting,
    questions.ask,
    questions.answer,
    questions.resolve,
    questions.questions,
    questions.helpers,
    resource.resource,
    edits.edit,
    edits.delete,
    report.report,
)

__all__ = ["COMMANDS", "circle", "edits", "meeting", "questions", "report", "resource"]
