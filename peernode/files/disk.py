"""Blobs on disk under home/blobs/: whole ones by id, partial ones written in place.

Rules of this file:
- What the learner shares is copied in (hashed on the way), so the node never serves
  the learner's own files in place, and a file edited later cannot change a blob.
- A download is written into a sparse file at each chunk's offset and flushed with
  fdatasync every few MiB (never per chunk: writer.py decides); on completion renamed.
- Copies out to the learner's folders never overwrite and never follow a symlink.
- A whole blob of at most `inline_bytes` is kept in the files database (`data`), not
  as a file: a folder of a thousand exercises is not a thousand files and fsyncs.
- Everything here blocks: callers run it with asyncio.to_thread.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO, BinaryIO, Final

from peernode.errors import BadInput
from peernode.files.catalog import BlobRecord, Catalog
from protocol.errors import LocalProtocolError
from protocol.files import BadPath, Hasher, Layout, check_name
from protocol.files.blob import ChunkRules

BLOCK: Final = 1024 * 1024
_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)

OnCopied = Callable[[int], None]
"""Told how many more bytes were copied in (from the copying thread): a progress bar."""


class BlobDir:
    """home/blobs: `ab/<id hex>` for whole blobs, `partial/<id hex>.part` for downloads."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, blob: bytes) -> Path:
        name = blob.hex()
        return self.root / name[2:4] / name

    def partial_path(self, blob: bytes) -> Path:
        return self.root / "partial" / f"{blob.hex()}.part"

    def has(self, blob: bytes) -> bool:
        return self.path(blob).is_file()

    def keep_small(self, catalog: Catalog, layout: Layout, inline_bytes: int) -> None:
        """A whole blob of at most `inline_bytes`: into the database, and its file gone."""
        path = self.path(layout.id)
        if layout.size > inline_bytes or not path.is_file():
            return
        catalog.set_data(layout.id, path.read_bytes())
        path.unlink()  # only once the database holds it

    def source(self, record: BlobRecord) -> Path | bytes:
        """Where a whole blob's bytes are: the database's copy, or its file."""
        return record.data if record.data is not None else self.path(record.blob)

    def read(self, record: BlobRecord) -> bytes:
        """A whole blob's bytes (one small enough to read at once)."""
        source = self.source(record)
        return source if isinstance(source, bytes) else source.read_bytes()

    def delete(self, blob: bytes) -> None:
        """The blob's file and any partial download of it."""
        self.path(blob).unlink(missing_ok=True)
        self.partial_path(blob).unlink(missing_ok=True)

    def import_file(
        self, source: Path, rules: ChunkRules, on_copied: OnCopied | None = None
    ) -> Layout:
        """Copy a regular file in, hashing it on the way; returns its layout."""
        try:
            fd = os.open(source, os.O_RDONLY | _NOFOLLOW)
        except OSError as exc:
            raise BadInput(f"cannot read {source}: {exc.strerror}") from exc
        with os.fdopen(fd, "rb") as reader:
            info = os.fstat(reader.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise BadInput(f"{source} is not a regular file")
            try:
                hasher = Hasher(info.st_size, rules)
            except LocalProtocolError as exc:
                raise BadInput(f"{source} is too big to share ({exc})") from exc
            incoming = self.root / "incoming" / f"{secrets.token_hex(8)}.tmp"
            incoming.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._copy_in(reader, incoming, hasher, source, on_copied)
                layout = hasher.layout()
                self._place(incoming, layout.id)
            finally:
                incoming.unlink(missing_ok=True)
        return layout

    def import_bytes(self, data: bytes, rules: ChunkRules) -> Layout:
        """Store bytes made here (a folder's manifest)."""
        hasher = Hasher(len(data), rules)
        hasher.update(data)
        layout = hasher.layout()
        if not self.has(layout.id):
            incoming = self.root / "incoming" / f"{secrets.token_hex(8)}.tmp"
            incoming.parent.mkdir(parents=True, exist_ok=True)
            incoming.write_bytes(data)
            self._place(incoming, layout.id)
        return layout

    def import_stream(self, reader: IO[bytes], hasher: Hasher, *, expected: bytes) -> Layout | None:
        """Copy `hasher.size` bytes in; None (and nothing kept) unless they are `expected`."""
        incoming = self.root / "incoming" / f"{secrets.token_hex(8)}.tmp"
        incoming.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(incoming, "wb") as writer:
                remaining = hasher.size
                while remaining and (block := reader.read(min(BLOCK, remaining))):
                    hasher.update(block)
                    writer.write(block)
                    remaining -= len(block)
                writer.flush()
                os.fdatasync(writer.fileno())
            if remaining:
                return None
            layout = hasher.layout()
            if layout.id != expected:
                return None
            self._place(incoming, layout.id)
            return layout
        finally:
            incoming.unlink(missing_ok=True)

    def _copy_in(
        self,
        reader: BinaryIO,
        target: Path,
        hasher: Hasher,
        source: Path,
        on_copied: OnCopied | None,
    ) -> None:
        buffer = bytearray(BLOCK)
        with open(target, "wb") as writer:
            while count := reader.readinto(buffer):  # type: ignore[attr-defined]
                try:
                    hasher.update(memoryview(buffer)[:count])
                except LocalProtocolError:
                    raise BadInput(f"{source} grew while it was being shared; try again") from None
                writer.write(memoryview(buffer)[:count])
                if on_copied is not None:
                    on_copied(count)
            writer.flush()
            os.fdatasync(writer.fileno())

    def _place(self, incoming: Path, blob: bytes) -> None:
        final = self.path(blob)
        final.parent.mkdir(parents=True, exist_ok=True)
        if not final.exists():
            os.replace(incoming, final)
            _fsync_dir(final.parent)

    def read_chunk(self, record: BlobRecord, index: int) -> bytes:
        """One chunk of a whole blob, or of a download in progress."""
        layout = record.layout
        length = layout.chunk_length(index)
        if record.data is not None:
            return record.data[layout.offset(index) : layout.offset(index) + length]
        path = self.path(record.blob) if record.complete else self.partial_path(record.blob)
        with open(path, "rb") as reader:
            data = os.pread(reader.fileno(), length, layout.offset(index))
        if len(data) != length:
            raise OSError(f"{path} is shorter than its blob")
        return data

    def open_partial(self, layout: Layout) -> PartialFile:
        return PartialFile(self.partial_path(layout.id), self.path(layout.id), layout)


class PartialFile:
    """A download in progress: chunks written in place; its writer says when to flush."""

    def __init__(self, path: Path, final: Path, layout: Layout) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._final = final
        self._layout = layout
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600)
        if os.fstat(self._fd).st_size != layout.size:
            os.ftruncate(self._fd, layout.size)  # sparse: no bytes written yet

    def write(self, index: int, data: bytes) -> None:
        """Write a verified chunk at its place (durable only after the next flush)."""
        os.pwrite(self._fd, data, self._layout.offset(index))

    def flush(self) -> None:
        """Make every chunk written so far durable."""
        os.fdatasync(self._fd)

    def finish(self) -> None:
        """Every chunk is here, verified and flushed: close, and move into place."""
        self.flush()
        self.close()
        self._final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._path, self._final)
        _fsync_dir(self._final.parent)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def free_name(directory: Path, name: str) -> str:
    """`name`, or `name (2).ext`, ... : the first that does not exist in `directory`."""
    stem, dot, suffix = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
    candidate, number = name, 1
    while os.path.lexists(directory / candidate):
        number += 1
        candidate = f"{stem} ({number}){dot}{suffix}"
    return candidate


def copy_out(source: Path | bytes, directory: Path, name: str) -> Path:
    """Copy `source` (a file, or a small blob's bytes) to a new file `name` in
    `directory`: refused if it exists (even as a symlink) or if `directory` is a symlink."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)
    except OSError as exc:
        raise BadInput(f"cannot save into {directory}: {exc.strerror}") from exc
    try:
        try:
            out = os.open(
                name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644, dir_fd=dir_fd
            )
        except FileExistsError:
            raise BadInput(f"{directory / name} exists already; nothing was overwritten") from None
        try:
            with os.fdopen(out, "wb") as writer:
                if isinstance(source, bytes):
                    writer.write(source)
                else:
                    with open(source, "rb") as reader:
                        while block := reader.read(BLOCK):
                            writer.write(block)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=dir_fd)
            raise
    finally:
        os.close(dir_fd)
    return directory / name


def make_dir(directory: Path, name: str) -> Path:
    """A new folder `name` in `directory` (never an existing one, never through a symlink)."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)
    except OSError as exc:
        raise BadInput(f"cannot save into {directory}: {exc.strerror}") from exc
    try:
        os.mkdir(name, 0o755, dir_fd=dir_fd)
    except FileExistsError:
        raise BadInput(f"{directory / name} exists already; nothing was overwritten") from None
    finally:
        os.close(dir_fd)
    return directory / name


def name_and_kind(path: Path) -> tuple[str, str]:
    """The name a file or folder is shared under, and "file" or "folder"."""
    if path.is_symlink():
        raise BadInput(f"{path} is a symbolic link; share the file it points to")
    name = path.resolve().name if path.name in ("", ".", "..") else path.name
    try:
        check_name(name)
    except BadPath as exc:
        raise BadInput(f"{name!r} cannot be shared under that name: {exc}") from None
    if path.is_dir():
        return name, "folder"
    if path.is_file():
        return name, "file"
    raise BadInput(f"{path} is neither a file nor a folder")


def save_target(destination: Path, name: str) -> tuple[Path, str]:
    """Into `destination` under a free name if it is a folder, else as `destination`."""
    if destination.is_dir() and not destination.is_symlink():
        return destination, free_name(destination, name)
    return destination.parent, destination.name
