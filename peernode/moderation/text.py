"""What a person reads about their own moderation: one text for the CLI and the TUI."""

from __future__ import annotations

from typing import Final

from peernode.moderation.model import HiddenEvent, ModeratedPerson, ModerationList
from peernode.storage import Level
from peernode.text import local_time, name_and_fingerprint, short_fingerprint, short_id

LEVEL_WORD: Final[dict[Level, str]] = {"mute": "muted", "block": "blocked"}

NOTHING: Final = "You have not muted, blocked or hidden anything."

_DONE: Final[dict[Level, str]] = {
    "mute": "{who} is muted: what they write is hidden from your lists here."
    " Undo with 'peernode unmute {fp}'.",
    "block": "{who} is blocked: their events are not stored or passed on, and this node"
    " does not link with them. Undo with 'peernode unblock {fp}'.",
}
_UNDONE: Final[dict[Level, str]] = {
    "mute": "{who} is no longer muted.",
    "block": "{who} is no longer blocked; their events arrive again from the room.",
}
_NOT_SET: Final[dict[Level, str]] = {
    "mute": "{who} was not muted.",
    "block": "{who} was not blocked.",
}


def done(level: Level, name: str, key: bytes) -> str:
    """The sentence after a mute or a block."""
    return _DONE[level].format(who=name_and_fingerprint(name, key), fp=short_fingerprint(key))


def undone(level: Level, name: str, key: bytes, *, was_set: bool) -> str:
    """The sentence after an unmute or an unblock."""
    template = _UNDONE[level] if was_set else _NOT_SET[level]
    return template.format(who=name_and_fingerprint(name, key))


def hidden(event_id: bytes) -> str:
    return (
        f"Event {short_id(event_id)} is hidden from your lists here."
        f" Undo with 'peernode unhide {short_id(event_id)}'."
    )


def shown(event_id: bytes, *, was_hidden: bool) -> str:
    if not was_hidden:
        return f"Event {short_id(event_id)} was not hidden."
    return f"Event {short_id(event_id)} shows again."


def person_line(person: ModeratedPerson) -> str:
    """'blocked  Ana (abcd-efgh)  since 2026-12-06 07:02'."""
    who = name_and_fingerprint(person.name, person.key)
    return f"{LEVEL_WORD[person.level]:<8} {who}  since {local_time(person.since)}"


def hidden_line(event: HiddenEvent) -> str:
    return f"{'hidden':<8} event {short_id(event.id)}  since {local_time(event.since)}"


def lines(listing: ModerationList) -> list[str]:
    """The whole list, people first; NOTHING when empty."""
    if not listing:
        return [NOTHING]
    return [*map(person_line, listing.people), *map(hidden_line, listing.hidden)]
