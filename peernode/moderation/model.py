"""What the learner muted, blocked and hid, as plain data for the CLI and the TUI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peernode.storage import Level, Moderation
from peernode.text import NameOf
from protocol.identity import fingerprint


@dataclass(frozen=True, slots=True)
class ModeratedPerson:
    """A person the learner muted or blocked."""

    key: bytes
    name: str
    level: Level
    since: int  # ms

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key.hex(),
            "fingerprint": fingerprint(self.key),
            "name": self.name,
            "level": self.level,
            "since": self.since,
        }


@dataclass(frozen=True, slots=True)
class HiddenEvent:
    """An event the learner hid from their own lists."""

    id: bytes
    since: int  # ms

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id.hex(), "level": "hide", "since": self.since}


@dataclass(frozen=True, slots=True)
class ModerationList:
    """Everything the learner moderated, newest first."""

    people: tuple[ModeratedPerson, ...]
    hidden: tuple[HiddenEvent, ...]

    @classmethod
    def of(cls, moderation: Moderation, name_of: NameOf) -> ModerationList:
        levels: list[tuple[dict[bytes, int], Level]] = [
            (moderation.blocked, "block"),
            (moderation.muted, "mute"),
        ]
        people = [
            ModeratedPerson(key, name_of(key), level, since)
            for marks, level in levels
            for key, since in marks.items()
        ]
        hidden = [HiddenEvent(event_id, since) for event_id, since in moderation.hidden.items()]
        return cls(
            tuple(sorted(people, key=lambda person: -person.since)),
            tuple(sorted(hidden, key=lambda event: -event.since)),
        )

    def __bool__(self) -> bool:
        return bool(self.people or self.hidden)
