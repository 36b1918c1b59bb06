"""The insights report of a circle, in the TUI, and exported as Markdown or HTML.

The numbers are computed on this laptop from the signed events it holds
(`Node.circle_report`), the same as `peernode report`; export writes the same
file that command writes, into the current or the home folder, and says where.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar

from rich.table import Table
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from peernode.circles.model import CircleState
from peernode.circles.report import (
    Report,
    glance,
    meeting_table,
    resolved_text,
    sections,
    themes_text,
)
from peernode.circles.report_files import render, write_beside
from peernode.circles.text import OPEN_QUESTIONS
from peernode.errors import NodeError
from peernode.node import Node
from tui.circles.base import CircleBase, Command
from tui.circles.export import ExportChoice, ExportDialog, default_folders
from tui.text import Clock

Folders = Callable[[], Sequence[tuple[str, Path]]]


def glance_text(report: Report) -> str:
    rows = glance(report)
    width = max(len(label) for label, _ in rows) + 2
    return "\n".join(f"{label + ' ':.<{width}} {value}" for label, value in rows)


def meetings_table(report: Report) -> Table | str:
    head, rows = meeting_table(report)
    if not rows:
        return "No meeting held yet (held: started, and someone signed they were there)."
    table = Table(*head[:-1], box=None, padding=(0, 1, 0, 0), show_edge=False)
    for row in rows:
        table.add_row(*row[:-1])
    return table


def said_text(report: Report) -> str:
    lines: list[str] = []
    for title, said, themes in sections(report):
        lines.append(title)
        if themes:
            lines.append(f"  themes: {themes_text(themes)}")
        lines += [f"  • {item.text} — {item.who}" for item in said] or ["  nothing yet"]
        lines.append("")
    lines.append("Resolved questions")
    lines += [f"  ✓ {resolved_text(item)}" for item in report.resolved] or ["  none yet"]
    lines.append("")
    lines.append(OPEN_QUESTIONS)
    lines += [f"  ? {title}" for title in report.open_questions] or ["  none"]
    return "\n".join(lines)


class ReportScreen(CircleBase):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "export", "Export"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(
        self, node: Node, circle: str, *, clock: Clock, folders: Folders = default_folders
    ) -> None:
        super().__init__(node, circle, clock=clock)
        self.folders = folders
        self.report: Report | None = None
        self._next: Report | None = None
        self.exported: Path | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="report"):
            yield Static("Loading…", id="report-title", classes="dialog-title", markup=False)
            yield Static("", id="report-glance", classes="report-box", markup=False)
            yield Static("", id="report-meetings", classes="report-box", markup=False)
            yield Static("", id="report-said", classes="report-box", markup=False)
            yield Static(
                "Press x to export it as Markdown or HTML.", id="report-export", markup=False
            )
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#report-glance").border_title = "At a glance"
        self.query_one("#report-meetings").border_title = "Meetings held"
        self.query_one("#report").focus()

    async def prepare(self, state: CircleState) -> None:
        self._next = (
            await self.node.circles.report(self.circle, now=self.clock()) if state.exists else None
        )

    def show(self, state: CircleState) -> None:
        self.report = report = self._next
        title = self.query_one("#report-title", Static)
        if report is None:
            title.update(f"#{self.circle} is not a study circle yet: no report.")
            return
        topic = f" · {report.topic}" if report.topic else ""
        title.update(f"Insights report: {report.title} (#{report.circle}{topic})")
        self.query_one("#report-glance", Static).update(glance_text(report))
        self.query_one("#report-meetings", Static).update(meetings_table(report))
        self.query_one("#report-said", Static).update(said_text(report))

    @property
    def glance_shown(self) -> str:
        return str(self.query_one("#report-glance", Static).content)

    def palette_commands(self) -> list[Command]:
        return [("Report: export", "Markdown or HTML, to a file", self.action_export)]

    def action_export(self) -> None:
        if self.report is None:
            self.notify("There is no report to export yet.", severity="warning")
            return
        self.app.push_screen(ExportDialog(self.circle, self.folders()), self._export)

    def _export(self, choice: ExportChoice | None) -> None:
        if choice is not None:
            self._write(choice)

    @work(group="export", exclusive=True, exit_on_error=False)
    async def _write(self, choice: ExportChoice) -> None:
        try:
            report = await self.node.circles.report(self.circle, now=self.clock())
            text = render(report, choice.fmt)
            path = await asyncio.to_thread(write_beside, choice.folder, choice.name, text)
        except (NodeError, OSError) as exc:
            self.notify(f"Not exported: {exc}", severity="error", timeout=8, markup=False)
            return
        self.exported = path
        self.query_one("#report-export", Static).update(f"✓ Exported to {path}")
        self.notify(f"Report written to {path}", title="Exported", timeout=8, markup=False)
