"""The paths a folder manifest may hold: safe to create on Windows, macOS and Linux alike."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

from protocol.errors import RemoteProtocolError

MAX_PATH_BYTES: Final = 1024
MAX_NAME_BYTES: Final = 255
MAX_DEPTH: Final = 32

_FORBIDDEN_CHARS: Final = frozenset('<>:"|?*\\/')
_RESERVED: Final = re.compile(r"CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³]", re.IGNORECASE)
"""Windows device names, reserved with any extension too (`con.txt`)."""


class BadPath(RemoteProtocolError):
    """A path that could escape the folder or that some system cannot create."""


def check_name(name: str) -> str:
    """One path component (a file's or folder's name); raises BadPath saying why."""
    if not name or name in (".", ".."):
        raise BadPath(f"{name!r} is not a name")
    for char in name:
        if ord(char) < 0x20 or ord(char) == 0x7F:
            raise BadPath(f"{name!r} holds a control character")
        if char in _FORBIDDEN_CHARS:
            raise BadPath(f"{name!r} holds {char!r}, which Windows refuses")
    if name[-1] in ". ":
        raise BadPath(f"{name!r} ends with a dot or a space")
    if _RESERVED.fullmatch(name.split(".")[0].rstrip(" ")):
        raise BadPath(f"{name!r} is a reserved device name on Windows")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise BadPath(f"a name is at most {MAX_NAME_BYTES} bytes")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise BadPath(f"{name!r} is not valid text") from None
    return name


def check_path(path: str) -> tuple[str, ...]:
    """A relative path with '/' between names; returns its names."""
    if path.startswith("/"):
        raise BadPath(f"{path!r} is absolute")
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise BadPath(f"a path is at most {MAX_PATH_BYTES} bytes")
    names = tuple(path.split("/"))
    if len(names) > MAX_DEPTH:
        raise BadPath(f"{path!r} is deeper than {MAX_DEPTH} folders")
    for name in names:
        check_name(name)
    return names


def fold(path: str) -> str:
    """What two paths share when a case-insensitive (and normalising) disk sees them."""
    return unicodedata.normalize("NFC", path).casefold()


def check_no_collisions(paths: Iterable[str]) -> None:
    """No two paths that one disk would see as the same, and no file inside a file."""
    seen: dict[str, str] = {}
    files: set[str] = set()
    for path in paths:
        key = fold(path)
        if key in seen:
            raise BadPath(f"{path!r} and {seen[key]!r} are the same name ignoring case")
        seen[key] = path
        files.add(key)
    for key in files:
        parts = key.split("/")
        for depth in range(1, len(parts)):
            if "/".join(parts[:depth]) in files:
                raise BadPath(f"{seen[key]!r} is inside a file")
