"""What went wrong with the database file: every sqlite3 error as a StorageError.

Rules of this file:
- One mapping (storage_error) turns an sqlite3 error into DiskFull or ReadOnlyStorage
  (writes stop, reads go on), StorageDamaged (a corrupt file: `peernode repair`), else
  StorageError, each with a plain message.
- Checks of the file itself open it read-only, so a damaged file is left as it is.
"""

from __future__ import annotations

import functools
import inspect
import os
import sqlite3
import traceback
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

from peernode.errors import DiskFull, ReadOnlyStorage, StorageDamaged, StorageError

DISK_FULL_MESSAGE: Final = (
    "the disk is full: peernode cannot save new events until space is freed; reading still works"
)
# Extended result code: the -shm file could not grow (ENOSPC), an open on a full disk.
_SQLITE_IOERR_SHMSIZE: Final = sqlite3.SQLITE_IOERR | (19 << 8)
# Below this much free space an I/O error is taken for a full disk.
_NEARLY_FULL_BYTES: Final = 256 * 1024


def storage_error(exc: sqlite3.Error, path: Path) -> StorageError:
    """The StorageError, with a plain message, for an sqlite3 error on the database at `path`."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF
    if (
        primary == sqlite3.SQLITE_FULL
        or code == _SQLITE_IOERR_SHMSIZE
        or (primary == sqlite3.SQLITE_IOERR and _nearly_full(path))
    ):
        return DiskFull(DISK_FULL_MESSAGE)
    if primary == sqlite3.SQLITE_READONLY:
        return ReadOnlyStorage(read_only_message(path))
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or (
        # Text where this schema only ever stores blobs: a damaged type byte.
        code is None and str(exc).startswith("Could not decode to UTF-8")
    ):
        return damaged(path, str(exc)[:80])
    return StorageError(f"cannot use the database {path}: {exc}")


def at_open(error: StorageError, exc: sqlite3.Error, path: Path) -> StorageError:
    """An error at open says so; disk full and read-only speak for themselves."""
    if isinstance(error, StorageDamaged):
        return damaged(path, str(exc), at_open=True)
    if type(error) is StorageError:
        return StorageError(f"cannot open the database {path}: {exc}")
    return error


def damaged(path: Path, detail: str, *, at_open: bool = False) -> StorageDamaged:
    where = f"cannot open the database {path}: it is" if at_open else f"the database {path} is"
    return StorageDamaged(
        f"{where} damaged ({detail}); run 'peernode repair' to set it aside,"
        " keep the events that still read and fetch the rest from peers"
    )


def read_only_message(path: Path) -> str:
    return (
        f"the database {path} is read-only: peernode cannot save new events until it is"
        " writable again; reading still works"
    )


def check_file(path: Path) -> str | None:
    """What is wrong with the database file at `path` (None: its pages check out).

    Opened read-only, so a damaged file is left exactly as it is (no checkpoint
    of its WAL into it on close).
    """
    try:
        db = sqlite3.connect(uri(path, mode="ro"), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        problems = [str(row[0]) for row in db.execute("PRAGMA quick_check(3)")]
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        db.close()
    return None if problems == ["ok"] else one_line("; ".join(problems))


def one_line(report: str, limit: int = 160) -> str:
    """A quick_check report as one short line (its rows hold newlines and a banner)."""
    text = " ".join(report.replace("*** in database main ***", "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_only_file_system(path: Path) -> bool:
    try:
        return bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def read_only_place(path: Path) -> bool:
    """The file (or, for a new one, its directory) cannot be written by this process."""
    if read_only_file_system(path):
        return True
    target = path if path.exists() else path.parent
    return not os.access(target, os.W_OK)


def uri(path: Path, **params: str) -> str:
    """An SQLite file: URI for `path` with query parameters (mode=ro, immutable=1)."""
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return f"file:{urllib.parse.quote(str(path.absolute()))}" + (f"?{query}" if query else "")


def _nearly_full(path: Path) -> bool:
    try:
        stat = os.statvfs(path.parent)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < _NEARLY_FULL_BYTES


class _OnFile(Protocol):
    path: Path


F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)


def _mapping_errors(method: F) -> F:
    """Wrap a method so sqlite3 errors leave it as StorageError (see storage_error)."""
    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def generator(self: _OnFile, *args: Any, **kwargs: Any) -> Any:
            try:
                yield from method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise _mapped(exc, self.path) from exc

        return generator  # type: ignore[return-value]

    @functools.wraps(method)
    def plain(self: _OnFile, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise _mapped(exc, self.path) from exc

    return plain  # type: ignore[return-value]


def _mapped(exc: sqlite3.Error, path: Path) -> StorageError:
    """storage_error, with the locals of the frames the error left cleared: a cursor
    there keeps its statement, and so the connection's file and locks, open after
    close() until the garbage collector finds the cycle the error is often in."""
    traceback.clear_frames(exc.__traceback__)
    return storage_error(exc, path)


def map_errors_of_public_methods(cls: C) -> C:
    """Class decorator: no sqlite3 error leaves a public method of `cls` (which has `.path`)."""
    for name, value in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(value):
            setattr(cls, name, _mapping_errors(value))
    return cls
