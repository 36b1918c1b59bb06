"""Start a study circle, or change its description: name, topic, description,
resources and rhythm."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.widgets import Select, TextArea

from peernode.circles.model import (
    CADENCES,
    MAX_RHYTHM_MINUTES,
    MAX_SLUG_CHARS,
    MAX_WEEKS,
    MIN_MINUTES,
    MIN_WEEKS,
    CircleVersion,
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

    def description_fields(self) -> dict[str, Any]:
        """The keyword arguments of `node.circles.create` and `update` (all but the id)."""
        return {
            "name": self.name,
            "topic": self.topic,
            "description": self.description,
            "resources": self.resources,
            "rhythm": self.rhythm,
        }


def whole_number(text: str, what: str, low: int, high: int) -> int | None:
    """'' → None; else an int in [low, high] or ValueError saying what to write."""
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"Write the {what} as a whole number from {low} to {high}.")
    return int(text)


def parse_links(text: str, known: Collection[ResourceLink] = ()) -> tuple[ResourceLink, ...]:
    """Links separated by spaces or commas; each needs a scheme (https:, ...). A link
    among `known` keeps its title and licence."""
    by_url = {link.url: link for link in known}
    links = []
    for url in text.replace(",", " ").split():
        if link_problem(url) is not None:
            raise ValueError(f"'{url}' is not a link: write it in full, starting with https://.")
        links.append(by_url.get(url) or ResourceLink(url))
    return tuple(links)


def circle_id(text: str, existing: Collection[str]) -> str:
    """The circle id typed (a leading # dropped), or ValueError saying what to write."""
    slug = text.lstrip("#")
    if not slug:
        raise ValueError("Give the circle an id, e.g. sql-basics.")
    if channel_problem(slug) is not None:
        raise ValueError(
            f"Write the circle id with at most {MAX_SLUG_CHARS} lowercase letters, digits, "
            "'.', '-' or '_', starting with a letter or digit."
        )
    if slug in existing:
        raise ValueError(f"#{slug} is a study circle already: choose another id.")
    return slug


class NewCircleDialog(FormDialog[NewCircle]):
    """Dismisses with a NewCircle, or None when cancelled. With `current` (the circle's
    newest version), it changes that description: the id stays, the fields start filled."""

    DEFAULT_CSS: ClassVar[str] = """
    NewCircleDialog .form-fields { max-height: 18; }
    NewCircleDialog .form-fields .form-row.tall { height: 5; }
    NewCircleDialog #description { width: 1fr; height: 5; border: none; padding: 0; }
    """

    def __init__(
        self,
        slug: str = "",
        existing: Collection[str] = (),
        *,
        current: CircleVersion | None = None,
    ) -> None:
        super().__init__()
        self.slug = slug if slug not in existing else ""
        self.existing = set(existing)
        self.current = current
        if current is not None:
            self.heading = "Change the circle's description"
            self.ok_label = "Save"
        else:
            self.heading = "Start a study circle"
            self.ok_label = "Start"

    def intro(self) -> ComposeResult:
        if self.current is None:
            yield note("Everyone in the circle holds a copy; anyone can schedule the next meeting.")
        else:
            yield note("Your version becomes the circle's description for everyone.")

    def fields(self) -> ComposeResult:
        current = self.current
        slug = line_input(self.slug, placeholder="e.g. sql-basics (permanent)", id="slug")
        slug.disabled = current is not None
        yield field_row("Circle id", slug)
        yield field_row(
            "Title",
            line_input(current.title if current else "", placeholder="e.g. SQL basics", id="name"),
        )
        yield field_row(
            "Topic",
            line_input(
                current.topic if current else "", placeholder="optional, e.g. databases", id="topic"
            ),
        )
        description = TextArea(
            current.description if current else "",
            id="description",
            soft_wrap=True,
            compact=True,
            placeholder="optional: what, how, for whom (Enter starts a new line)",
        )
        row = field_row("Description", description)
        row.add_class("tall")
        yield row
        links = " ".join(link.url for link in current.resources) if current else ""
        yield field_row(
            "Resources",
            line_input(links, placeholder="optional: links, separated by spaces", id="links"),
        )
        yield from self.rhythm_fields(current.rhythm if current else Rhythm())

    def rhythm_fields(self, rhythm: Rhythm | None) -> ComposeResult:
        options = [(cadence, cadence) for cadence in CADENCE_ORDER if cadence in CADENCES]
        yield field_row(
            "Rhythm",
            Select(
                options,
                prompt="no fixed rhythm",
                value=rhythm.cadence if rhythm else Select.NULL,
                id="cadence",
                compact=True,
            ),
        )
        minutes = rhythm.duration_minutes if rhythm and rhythm.duration_minutes else None
        weeks = rhythm.weeks if rhythm and rhythm.weeks else None
        yield field_row(
            "Minutes",
            line_input(str(minutes or ""), placeholder="per meeting, e.g. 120", id="duration"),
        )
        yield field_row(
            "Weeks", line_input(str(weeks or ""), placeholder="optional, e.g. 6", id="weeks")
        )

    def result(self) -> NewCircle:
        editing = self.current is not None
        slug = self.slug if editing else circle_id(self.value("#slug"), self.existing)
        name = self.value("#name")
        if not name:
            raise ValueError("Give the circle a title, e.g. SQL basics.")
        duration = whole_number(
            self.value("#duration"), "minutes per meeting", MIN_MINUTES, MAX_RHYTHM_MINUTES
        )
        weeks = whole_number(self.value("#weeks"), "number of weeks", MIN_WEEKS, MAX_WEEKS)
        cadence = selected(self.query_one("#cadence", Select))
        rhythm = None
        if cadence is not None or duration is not None or weeks is not None:
            rhythm = Rhythm(cadence or "weekly", duration, weeks)
        known = self.current.resources if self.current else ()
        return NewCircle(
            slug=slug,
            name=name,
            topic=self.value("#topic"),
            description=self.query_one("#description", TextArea).text.strip(),
            resources=parse_links(self.value("#links"), known),
            rhythm=rhythm,
        )
