"""Plain data about shared files, for the CLI and the TUI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from protocol.event import Event


class Presence(Enum):
    """How much of a file is on this laptop."""

    HERE = "here"
    PARTIAL = "partial"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class SharedFile:
    """A file or folder shared with a circle (its event), and how much of it is here."""

    event: Event
    author_name: str
    have_bytes: int
    complete: bool

    @property
    def id(self) -> bytes:
        return self.event.id

    @property
    def circle(self) -> str:
        return self.event.circle

    @property
    def name(self) -> str:
        return str(self.event.body["name"])

    @property
    def size(self) -> int:
        return int(self.event.body["size"])

    @property
    def is_folder(self) -> bool:
        return bool(self.event.body["type"] == "folder")

    @property
    def blob(self) -> bytes:
        return bytes(self.event.body["blob"])

    @property
    def title(self) -> str:
        return str(self.event.body.get("title") or self.name)

    @property
    def presence(self) -> Presence:
        if self.complete:
            return Presence.HERE
        return Presence.PARTIAL if self.have_bytes else Presence.MISSING

    def to_json(self) -> dict[str, Any]:
        body = self.event.body
        return {
            "id": self.id.hex(),
            "circle": self.circle,
            "name": self.name,
            "title": self.title,
            "type": body["type"],
            "size": self.size,
            "mime": body.get("mime", ""),
            "blob": self.blob.hex(),
            "author": self.event.author.hex(),
            "author_name": self.author_name,
            "created_at": self.event.created_at,
            "have_bytes": self.have_bytes,
            "presence": self.presence.value,
        }


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a download stands: bytes here of `size`, the rate since it started, how
    many peers it fetches from."""

    blob: bytes
    have_bytes: int
    size: int
    rate: float
    sources: int
    done: bool = False

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate, None before there is a rate."""
        if self.done:
            return 0.0
        return (self.size - self.have_bytes) / self.rate if self.rate > 0 else None


OnProgress = Callable[[Progress], None]


@dataclass(frozen=True, slots=True)
class FetchStatus:
    """A background fetch: the file, its progress, and why it failed ("" if it did not)."""

    shared: SharedFile
    progress: Progress
    error: str

    def to_json(self) -> dict[str, Any]:
        progress = self.progress
        return {
            "file": self.shared.to_json(),
            "have_bytes": progress.have_bytes,
            "size": progress.size,
            "rate": progress.rate,
            "sources": progress.sources,
            "done": progress.done,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], shared: SharedFile) -> FetchStatus:
        progress = Progress(
            shared.blob,
            int(data["have_bytes"]),
            int(data["size"]),
            float(data["rate"]),
            int(data["sources"]),
            bool(data["done"]),
        )
        return cls(shared, progress, str(data["error"]))
