"""What a person reads about files: sizes, presence, progress; for the CLI and the TUI."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from peernode.circles.text import tags_text
from peernode.files.model import Presence, Progress, SharedFile
from peernode.text import NameOf, Shown, plural, short_id
from protocol.event import Event

_UNITS: Final = ("bytes", "KB", "MB", "GB", "TB")


def size_text(size: int) -> str:
    """'512 bytes', '4.2 MB', '700 MB': decimal units, as file managers show them."""
    value = float(size)
    for unit in _UNITS:
        if value < 1000 or unit == _UNITS[-1]:
            if unit == "bytes":
                return plural(size, "byte")
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def presence_text(shared: SharedFile) -> str:
    if shared.presence is Presence.HERE:
        return "on this laptop"
    if shared.presence is Presence.PARTIAL:
        return f"{shared.have_bytes * 100 // max(shared.size, 1)}% here"
    return "not here yet"


def file_line(shared: SharedFile) -> str:
    """One line of a circle's file list: id, title (and name), kind, size, presence."""
    kind = "folder" if shared.is_folder else "file"
    named = shared.title if shared.title == shared.name else f"{shared.title} · {shared.name}"
    return (
        f"{short_id(shared.id)}  {named}  ({kind}, {size_text(shared.size)},"
        f" {presence_text(shared)})  shared by {shared.author_name}"
    )


def shared_text(shared: SharedFile) -> str:
    """'shared week1.pdf (1.5 MB) with #sql-basics': what sharing a file says."""
    return f"shared {shared.name} ({size_text(shared.size)}) with #{shared.circle}"


def attachment_text(shared: SharedFile) -> str:
    """'joins.sql (2.1 KB, on this laptop, id 0a1b2c3d4e5f)': a file some work refers to."""
    kind = "folder, " if shared.is_folder else ""
    return (
        f"{shared.name} ({kind}{size_text(shared.size)}, {presence_text(shared)},"
        f" id {short_id(shared.id)})"
    )


def attachments_text(files: Mapping[bytes, SharedFile]) -> dict[bytes, str]:
    """`attachment_text` of each file, by id (for a challenge's page)."""
    return {file: attachment_text(shared) for file, shared in files.items()}


def progress_text(progress: Progress) -> str:
    """'12 MB of 700 MB · 25 MB/s · 28 s left · from 3 laptops'."""
    parts = [f"{size_text(progress.have_bytes)} of {size_text(progress.size)}"]
    if progress.done:
        return f"{parts[0]} · done"
    if progress.rate > 0:
        parts.append(f"{size_text(int(progress.rate))}/s")
    if (eta := progress.eta) is not None:
        parts.append(f"{eta:.0f} s left" if eta < 120 else f"{eta / 60:.0f} min left")
    if progress.sources:
        parts.append(f"from {plural(progress.sources, 'laptop')}")
    return " · ".join(parts)


BAR_WIDTH: Final = 20


def progress_bar(progress: Progress, width: int = BAR_WIDTH) -> str:
    """'[########------------] ' and the progress text: one line a terminal redraws."""
    share = progress.have_bytes / progress.size if progress.size else 1.0
    filled = min(width, int(share * width)) if not progress.done else width
    return f"[{'#' * filled}{'-' * (width - filled)}] {progress_text(progress)}"


def holders_text(count: int) -> str:
    """'on 3 other laptops', 'on no other laptop yet'."""
    return f"on {plural(count, 'other laptop')}" if count else "on no other laptop yet"


def available_text(count: int | None) -> str:
    """What whoever shared a file reads to know when they can leave."""
    if count is None:
        return "Shared by you. How many laptops have it shows once you are linked to the room."
    if count == 0:
        return "Shared by you, on no other laptop yet: stay until someone has fetched it."
    return f"Shared by you, available on {plural(count, 'other laptop')}."


def file_shown(event: Event, name_of: NameOf) -> Shown:
    """A file event in the feed: who shared what, its name, kind and size."""
    body = event.body
    kind = "folder" if body.get("type") == "folder" else "file"
    name = str(body.get("name", ""))
    title = str(body.get("title") or name)
    details = [f"{name} · {kind} · {size_text(int(body.get('size', 0)))}"]
    if tags := body.get("tags"):
        details.append(tags_text(tags))
    if licence := body.get("licence"):
        details.append(f"Licence: {licence}")
    return Shown(
        f"{name_of(event.author)} shared the {kind} “{title}”",
        tuple(details),
        str(body.get("description") or ""),
        plain=True,
    )


def card_details(shared: SharedFile) -> str:
    """A file card's second line: 'week1.pdf · file · 1.5 MB · on this laptop'."""
    kind = "folder" if shared.is_folder else "file"
    return f"{shared.name} · {kind} · {size_text(shared.size)} · {presence_text(shared)}"


def not_here_text(shared: SharedFile) -> str:
    return f"{shared.name} is not on this laptop yet: get it first."


def saved_text(path: Path) -> str:
    return f"Saved a copy as {path}."


def opened_text(path: Path) -> str:
    return f"Opened {path.name} (a copy saved in {path.parent})."


def no_opener_text(path: Path) -> str:
    return (
        f"No program to open files was found here: the copy is saved as {path};"
        " open it from your file manager."
    )


def opener_failed_text(command: str, path: Path) -> str:
    return (
        f"{command} could not open it: the copy is saved as {path}; open it from your file manager."
    )
