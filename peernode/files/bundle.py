"""Sneakernet: events and blobs in one file (a tar) for a USB stick, verified on import.

Rules of this file:
- A bundle is a tar of `events/<id hex>` (an event's bytes) and `blobs/<id hex>` (a
  blob's bytes); nothing is ever extracted by the names inside it, and any other
  member is skipped.
- On import every size is bounded before it is read, every event is verified by the
  node like one from a peer, and every blob is hashed on the way in and kept only if
  it is the blob its name says.
- Everything here blocks: callers run it with asyncio.to_thread.
"""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from peernode.errors import BadInput
from peernode.files.catalog import Catalog
from peernode.files.config import FilesConfig
from peernode.files.disk import BlobDir
from protocol.errors import LocalProtocolError
from protocol.files import Hasher
from protocol.limits import MAX_EVENT_BYTES

MAX_EVENTS: Final = 100_000
_EVENT: Final = re.compile(r"events/[0-9a-f]{64}")
_BLOB: Final = re.compile(r"blobs/([0-9a-f]{66})")
BLOCK: Final = 1024 * 1024


@dataclass(slots=True)
class Unbundled:
    """What a bundle held: event bytes (to ingest) and the blobs stored, and what was
    refused (a blob whose bytes are not its id)."""

    events: list[bytes] = field(default_factory=list)
    blobs: list[bytes] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def write_bundle(
    out: Path,
    events: Iterable[tuple[bytes, bytes]],
    blobs: Iterable[bytes],
    disk: BlobDir,
    catalog: Catalog,
) -> None:
    """A new bundle at `out` (never over an existing file): (id, raw) events, then blobs."""
    try:
        with tarfile.open(out, "x") as tar:
            for event_id, raw in events:
                _add_bytes(tar, f"events/{event_id.hex()}", raw)
            for blob in blobs:
                record = catalog.get(blob)
                if record is None or not record.complete:
                    raise BadInput("a file to export is not here any more; fetch it again")
                source = disk.source(record)
                name = f"blobs/{blob.hex()}"
                if isinstance(source, bytes):
                    _add_bytes(tar, name, source)
                else:
                    tar.add(source, arcname=name, recursive=False)
    except FileExistsError:
        raise BadInput(f"{out} exists already; nothing was overwritten") from None


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def read_bundle(source: Path, disk: BlobDir, catalog: Catalog, config: FilesConfig) -> Unbundled:
    """Take the events (for the node to verify) and the blobs (hashed here) of a bundle."""
    result = Unbundled()
    try:
        with tarfile.open(source, "r") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                if _EVENT.fullmatch(member.name):
                    result.events.append(_event(tar, member, result))
                elif match := _BLOB.fullmatch(member.name):
                    _blob(tar, member, bytes.fromhex(match[1]), disk, catalog, config, result)
    except (tarfile.TarError, EOFError) as exc:
        raise BadInput(f"{source} is not a peernode bundle, or it is damaged ({exc})") from None
    return result


def _event(tar: tarfile.TarFile, member: tarfile.TarInfo, result: Unbundled) -> bytes:
    if member.size > MAX_EVENT_BYTES or len(result.events) >= MAX_EVENTS:
        raise BadInput(f"{member.name} is bigger than an event can be")
    reader = tar.extractfile(member)
    assert reader is not None
    return reader.read(MAX_EVENT_BYTES + 1)


def _blob(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    blob: bytes,
    disk: BlobDir,
    catalog: Catalog,
    config: FilesConfig,
    result: Unbundled,
) -> None:
    try:
        hasher = Hasher(member.size, config.rules)
    except LocalProtocolError:
        result.refused.append(member.name)
        return
    reader = tar.extractfile(member)
    assert reader is not None
    layout = disk.import_stream(reader, hasher, expected=blob)
    if layout is None:
        result.refused.append(member.name)
        return
    catalog.add(layout, complete=True)
    disk.keep_small(catalog, layout, config.inline_bytes)
    result.blobs.append(blob)
