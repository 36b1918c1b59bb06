"""Start a study circle: its name, topic, description, resources and rhythm."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.widgets import Select

from peernode.circles.model import (
    CADENCES,
    MAX_RHYTHM_MINUTES,
    MAX_WEEKS,
    MIN_MINUTES,
    MIN_WEEKS,
    ResourceLink,
    Rhythm,
)
from peernode.views import channel_problem, link_problem
from tui.dialogs.form import FormDialog, field_row, line_input, note, selected

CADENCE_ORDER = ("weekly", "biweekly", "monthly", "other")


@dataclass(frozen=True, slots=True)
class NewCircle:
    slug: str
    name: str
    topic: str
    description: str
    resources: tuple[ResourceLink, ...]
    rhythm: Rhythm | None


def whole_number(text: str, what: str, low: int, high: int) -> int | None:
    """'' → None; else an int in [low, high] or ValueError saying what is wrong."""
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{what} must be a whole number from {low} to {high}")
    return int(text)


def parse_links(text: str) -> tuple[ResourceLink, ...]:
    """Links separated by spaces or commas; each needs a scheme (https:, ...)."""
    links = []
    for url in text.replace(",", " ").split():
        if link_problem(url) is not None:
            raise ValueError(f"{url!r} is not a link (it needs https:// or another scheme)")
        links.append(ResourceLink(url))
    return tuple(links)


class NewCircleDialog(FormDialog[NewCircle]):
    """Dismisses with a NewCircle, or None when cancelled."""

    heading = "Start a study circle"
    ok_label = "Start"

    def __init__(self, slug: str = "", existing: Collection[str] = ()) -> None:
        super().__init__()
        self.slug = slug if slug not in existing else ""
        self.existing = set(existing)

    def intro(self) -> ComposeResult:
        yield note("Everyone in the circle holds a copy; anyone can schedule the next meeting.")

    def fields(self) -> ComposeResult:
        yield field_row(
            "Circle id",
            line_input(self.slug, placeholder="e.g. sql-basics (permanent)", id="slug"),
        )
        yield field_row("Title", line_input(placeholder="e.g. SQL basics", id="name"))
        yield field_row("Topic", line_input(placeholder="optional, e.g. databases", id="topic"))
        yield field_row(
            "Description", line_input(placeholder="optional: what, how, for whom", id="description")
        )
        yield field_row(
            "Resources", line_input(placeholder="optional: links, separated by spaces", id="links")
        )
        options = [(cadence, cadence) for cadence in CADENCE_ORDER if cadence in CADENCES]
        yield field_row(
            "Rhythm",
            Select(options, prompt="no fixed rhythm", value="weekly", id="cadence", compact=True),
        )
        yield field_row("Minutes", line_input(placeholder="per meeting, e.g. 120", id="duration"))
        yield field_row("Weeks", line_input(placeholder="optional, e.g. 6", id="weeks"))

    def result(self) -> NewCircle:
        slug = self.value("#slug").lstrip("#")
        problem = channel_problem(slug)
        if problem is not None:
            raise ValueError(f"circle id: {problem}")
        if slug in self.existing:
            raise ValueError(f"#{slug} is a study circle already")
        name = self.value("#name")
        if not name:
            raise ValueError("the circle needs a title")
        duration = whole_number(self.value("#duration"), "minutes", MIN_MINUTES, MAX_RHYTHM_MINUTES)
        weeks = whole_number(self.value("#weeks"), "weeks", MIN_WEEKS, MAX_WEEKS)
        cadence = selected(self.query_one("#cadence", Select))
        rhythm = None
        if cadence is not None or duration is not None or weeks is not None:
            rhythm = Rhythm(cadence or "weekly", duration, weeks)
        return NewCircle(
            slug=slug,
            name=name,
            topic=self.value("#topic"),
            description=self.value("#description"),
            resources=parse_links(self.value("#links")),
            rhythm=rhythm,
        )
