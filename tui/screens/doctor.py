"""Check the network ('d'): the same diagnosis as `peernode doctor`, shown as it runs."""

from __future__ import annotations

import time
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, ProgressBar, Static

from peernode.errors import NodeError
from peernode.node import Node
from peernode.text import plural
from peernode.views import Finding

INTRO = (
    "What this laptop sees on the network, and what to try when no peer shows up. "
    "It takes a few seconds: the check listens for peers nearby."
)


def finding_text(finding: Finding) -> str:
    """'✓ sentence' or '✗ sentence' with 'Try: …' under it: the mark never alone."""
    mark = "✗" if finding.problem else "✓"
    lines = [f"{mark} {finding.sentence}"]
    if finding.next_step:
        lines.append(f"  Try: {finding.next_step}")
    return "\n".join(lines)


def summary_text(findings: list[Finding], peer_in_sight: bool, seconds: float) -> str:
    problems = sum(1 for finding in findings if finding.problem)
    took = f"Checked in {seconds:.0f} s"
    if problems == 0:
        return f"{took}: all looks well."
    sight = "a peer is in sight" if peer_in_sight else "no peer in sight yet"
    where = "each" if problems > 1 else "it"
    return (
        f"{took}: {sight}; {plural(problems, 'thing')} to look at (what to try is under {where})."
    )


class FindingView(Horizontal):
    """One finding: its mark, then the sentence and 'Try: …' indented under it."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(classes="finding -problem" if finding.problem else "finding")
        self.finding = finding

    @property
    def text(self) -> str:
        return finding_text(self.finding)

    def compose(self) -> ComposeResult:
        yield Static("✗" if self.finding.problem else "✓", classes="finding-mark")
        with Vertical(classes="finding-words"):
            yield Static(self.finding.sentence, markup=False)
            if self.finding.next_step:
                yield Static(f"Try: {self.finding.next_step}", classes="finding-try", markup=False)


class DoctorScreen(Screen[None]):
    """Runs the check in a worker on opening and on 'r'; findings appear as they come."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "again", "Check again"),
        Binding("a", "app.add_peer", "Add peer"),
        Binding("escape", "back", "Back"),
    ]

    class Stepped(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Found(Message):
        def __init__(self, finding: Finding) -> None:
            super().__init__()
            self.finding = finding

    class Finished(Message):
        def __init__(self, peer_in_sight: bool) -> None:
            super().__init__()
            self.peer_in_sight = peer_in_sight

    def __init__(self, node: Node, *, listen_seconds: float | None = None) -> None:
        super().__init__()
        self.node = node
        self.listen_seconds = listen_seconds
        self.findings: list[Finding] = []
        self.running = False
        self._started = 0.0

    def compose(self) -> ComposeResult:
        with Vertical(id="doctor"):
            yield Static("Check the network", classes="dialog-title")
            yield Static(INTRO, id="doctor-intro", markup=False)
            yield ProgressBar(
                total=None, show_eta=False, show_percentage=False, id="doctor-progress"
            )
            yield Static("", id="doctor-step", markup=False)
            yield VerticalScroll(id="doctor-findings")
        yield Footer()

    def on_mount(self) -> None:
        self.action_again()

    @property
    def step_text(self) -> str:
        return str(self.query_one("#doctor-step", Static).content)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "again":
            return None if self.running else True  # shown, dimmed, while a check runs
        return True

    def action_again(self) -> None:
        if self.running:
            return
        self.findings = []
        self.query_one("#doctor-findings").remove_children()
        self._set_running(True)
        self._run()

    def action_back(self) -> None:
        self.dismiss(None)  # a running check is cancelled with the screen

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.query_one(ProgressBar).display = running
        if running:
            self._started = time.monotonic()
            self.query_one("#doctor-step", Static).update("Starting the check…")
        self.refresh_bindings()

    @work(exclusive=True, group="doctor", exit_on_error=False)
    async def _run(self) -> None:
        try:
            in_sight = await self.node.diagnose(
                self._post_finding,
                self._post_step,
                listen_seconds=self.listen_seconds,
            )
        except (NodeError, OSError) as exc:
            stopped = Finding(f"The check stopped: {exc}", "Press r to check again.", True)
            self.post_message(self.Found(stopped))
            in_sight = False
        self.post_message(self.Finished(in_sight))

    def _post_finding(self, finding: Finding) -> None:
        self.post_message(self.Found(finding))

    def _post_step(self, step: str) -> None:
        self.post_message(self.Stepped(step))

    def on_doctor_screen_stepped(self, message: Stepped) -> None:
        self.query_one("#doctor-step", Static).update(f"{message.text}…")

    def on_doctor_screen_found(self, message: Found) -> None:
        self.findings.append(message.finding)
        self.query_one("#doctor-findings").mount(FindingView(message.finding))

    def on_doctor_screen_finished(self, message: Finished) -> None:
        seconds = time.monotonic() - self._started
        summary = summary_text(self.findings, message.peer_in_sight, seconds)
        self.query_one("#doctor-step", Static).update(f"{summary} Press r to check again.")
        self._set_running(False)
