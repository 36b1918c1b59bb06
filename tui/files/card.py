"""A shared file as a card: what it is, a progress bar while it arrives, Get, Save, Open.

Whoever shared it reads on how many other laptops it is, so they know when they can
leave. The card does its own long work (in workers) and says how it ended in one
sentence; the screen that holds it gives it fresh data with `update_file`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, ProgressBar, Static

from peernode.errors import NodeError
from peernode.files import Presence, Progress, SharedFile
from peernode.files.text import (
    available_text,
    card_details,
    no_opener_text,
    not_here_text,
    opened_text,
    progress_text,
    saved_text,
)
from peernode.node import Node
from tui.files.desk import FileDesk
from tui.files.opening import open_with
from tui.files.save import SaveDialog


class FileCard(Vertical):
    """One shared file or folder; `mine`: shared by this laptop's learner."""

    def __init__(
        self,
        node: Node,
        shared: SharedFile,
        desk: FileDesk,
        *,
        mine: bool,
        holders: int | None = None,
    ) -> None:
        super().__init__(classes="file-card")
        self.node = node
        self.shared = shared
        self.desk = desk
        self.mine = mine
        self.holders = holders
        self.fetching = False
        self.copy: Path | None = None
        """The copy Open saved last (opened again rather than copied again)."""

    def compose(self) -> ComposeResult:
        yield Static(self.shared.title, classes="file-title", markup=False)
        yield Static("", classes="file-details", markup=False)
        yield ProgressBar(self.shared.size or 1, show_eta=False, classes="file-bar")
        yield Static("", classes="file-status", markup=False)
        with Horizontal(classes="file-buttons"):
            yield Button("Get", name="get", compact=True, classes="file-get")
            yield Button("Save", name="save", compact=True, classes="file-save")
            yield Button("Open", name="open", compact=True, classes="file-open")

    def on_mount(self) -> None:
        self._show()

    # -- what the screen calls -------------------------------------------------------

    def update_file(self, shared: SharedFile, holders: int | None) -> None:
        """Fresh data about the file (it arrived, more laptops have it...)."""
        self.shared = shared
        self.holders = holders
        self._show()

    def show_progress(self, progress: Progress) -> None:
        """A download's progress: the bar, and bytes, rate, time left and sources."""
        bar = self.query_one(".file-bar", ProgressBar)
        bar.display = True
        bar.update(total=max(progress.size, 1), progress=progress.have_bytes)
        self._status(progress_text(progress))

    # -- buttons ----------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.name == "get":
            self.get()
        elif event.button.name == "save":
            self.save()
        elif event.button.name == "open":
            self.open()

    def get(self) -> None:
        """Fetch the file from every laptop that has it (once: a second press waits)."""
        if self.shared.complete:
            self._say(f"{self.shared.name} is on this laptop already.")
        elif not self.fetching:
            self.fetching = True
            self._show()
            self._status("Looking for the laptops that have it…")
            self._fetch()

    def save(self) -> None:
        if not self.shared.complete:
            self._say(not_here_text(self.shared), error=True)
            return
        dialog = SaveDialog(self.shared.name, self.desk.downloads)
        self.app.push_screen(dialog, self._save_into)

    def open(self) -> None:
        if not self.shared.complete:
            self._say(not_here_text(self.shared), error=True)
            return
        self._open()

    # -- the long work ----------------------------------------------------------------

    @work(group="file-get", exit_on_error=False)
    async def _fetch(self) -> None:
        shared = self.shared
        try:
            shared = await self.node.files.get(shared.id, self.show_progress)
        except NodeError as exc:
            self._say(str(exc), error=True)
            with contextlib.suppress(NodeError):  # how much came before it failed
                shared = await self.node.files.find(shared.id)
        finally:
            self.fetching = False
        if shared.complete:
            self._say(f"{shared.name} is on this laptop.")
        self.update_file(shared, self.holders)

    def _save_into(self, folder: Path | None) -> None:
        if folder is not None:
            self._save(folder)

    @work(group="file-save", exit_on_error=False)
    async def _save(self, folder: Path) -> None:
        self._status(f"Saving a copy into {folder}…")
        try:
            saved = await self.node.files.save(self.shared.id, folder)
        except NodeError as exc:
            self._say(str(exc), error=True)
            return
        finally:
            self._show()
        self._say(saved_text(saved))

    @work(group="file-open", exclusive=True, exit_on_error=False)
    async def _open(self) -> None:
        copy = self.copy
        if copy is None or not copy.exists():
            self._status("Saving a copy to open…")
            try:
                copy = self.copy = await self.node.files.save(self.shared.id, self.desk.downloads)
            except NodeError as exc:
                self._say(str(exc), error=True)
                return
            finally:
                self._show()
        if self.desk.opener is None:
            self._say(no_opener_text(copy))
            return
        problem = await open_with(self.desk.opener, copy)
        self._say(problem or opened_text(copy), error=bool(problem))

    # -- showing ------------------------------------------------------------------------

    def _show(self) -> None:
        if not self.query(".file-open"):
            return  # not composed yet: on_mount shows it
        shared = self.shared
        here = shared.complete
        self.query_one(".file-details", Static).update(card_details(shared))
        bar = self.query_one(".file-bar", ProgressBar)
        bar.display = self.fetching or shared.presence is Presence.PARTIAL
        if not self.fetching:
            bar.update(total=max(shared.size, 1), progress=shared.have_bytes)
            self._status(available_text(self.holders) if self.mine else "")
        self.query_one(".file-get", Button).display = not here
        self.query_one(".file-get", Button).disabled = self.fetching
        self.query_one(".file-save", Button).display = here
        self.query_one(".file-open", Button).display = here

    def _status(self, text: str) -> None:
        status = self.query_one(".file-status", Static)
        status.update(text)
        status.display = bool(text)

    def _say(self, sentence: str, *, error: bool = False) -> None:
        if error:
            self.notify(sentence, title=self.shared.title, severity="error", markup=False)
        else:
            self.notify(sentence, title=self.shared.title, markup=False)
