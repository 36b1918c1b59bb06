"""A folder: a manifest blob listing each file's path, size and blob id, sorted by path."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from protocol.codec import pack, unpack
from protocol.errors import DecodeError, LocalProtocolError
from protocol.files.blob import BLOB_ID_BYTES, check_blob_id
from protocol.files.paths import BadPath, check_no_collisions, check_path

MANIFEST_VERSION: Final = 1
MAX_ENTRIES: Final = 10_000
MAX_MANIFEST_BYTES: Final = 4 * 1024 * 1024
MAX_FILE_BYTES: Final = 2**53 - 1


@dataclass(frozen=True, slots=True, order=True)
class Entry:
    """One file of a folder: its path inside the folder ('/' between names)."""

    path: str
    size: int
    blob: bytes


@dataclass(frozen=True, slots=True)
class Manifest:
    """The files of a folder, sorted by path; folders are implied by the paths."""

    entries: tuple[Entry, ...]

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> Manifest:
        """A manifest of our own files, checked like one received (LocalProtocolError)."""
        manifest = cls(tuple(sorted(entries)))
        try:
            _check(manifest.entries)
        except (BadPath, DecodeError) as exc:
            raise LocalProtocolError(str(exc)) from exc
        return manifest

    @property
    def size(self) -> int:
        """The bytes of all its files."""
        return sum(entry.size for entry in self.entries)

    def encode(self) -> bytes:
        rows = [[entry.path, entry.size, entry.blob] for entry in self.entries]
        return pack([MANIFEST_VERSION, rows])


def decode_manifest(data: bytes) -> Manifest:
    """A manifest from the network: every path safe, sorted, unique ignoring case."""
    value = unpack(data, max_bytes=MAX_MANIFEST_BYTES, max_array_len=MAX_ENTRIES)
    if not isinstance(value, list) or len(value) != 2 or value[0] != MANIFEST_VERSION:
        raise DecodeError(f"a manifest is [{MANIFEST_VERSION}, entries]")
    rows = value[1]
    if not isinstance(rows, list):
        raise DecodeError("a manifest's entries are a list")
    entries = tuple(_entry(row, index) for index, row in enumerate(rows))
    _check(entries)
    return Manifest(entries)


def _entry(row: Any, index: int) -> Entry:
    if not isinstance(row, list) or len(row) != 3:
        raise DecodeError(f"entry {index} is not [path, size, blob]")
    path, size, blob = row
    if not isinstance(path, str):
        raise DecodeError(f"entry {index}: the path is not text")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_FILE_BYTES:
        raise DecodeError(f"entry {index}: the size is not a byte count")
    if not isinstance(blob, bytes) or len(blob) != BLOB_ID_BYTES:
        raise DecodeError(f"entry {index}: the blob is not an id")
    check_blob_id(blob)
    return Entry(path, size, blob)


def _check(entries: tuple[Entry, ...]) -> None:
    if len(entries) > MAX_ENTRIES:
        raise DecodeError(f"a manifest holds at most {MAX_ENTRIES} entries")
    for entry in entries:
        check_path(entry.path)
    paths = [entry.path for entry in entries]
    if paths != sorted(set(paths)):
        raise DecodeError("a manifest's paths are sorted and unique")
    check_no_collisions(paths)
