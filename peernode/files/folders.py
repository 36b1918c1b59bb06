"""Folders: shared as a manifest of their regular files, saved back as a new folder.

Everything here blocks: callers run it with asyncio.to_thread.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from peernode.errors import BadInput
from peernode.files.catalog import Catalog
from peernode.files.config import FilesConfig
from peernode.files.disk import BlobDir, OnCopied, copy_out, make_dir
from protocol.errors import LocalProtocolError
from protocol.files import BadPath, Entry, Manifest, check_path


def import_folder(
    root: Path,
    disk: BlobDir,
    catalog: Catalog,
    config: FilesConfig,
    on_copied: OnCopied | None = None,
) -> tuple[bytes, int]:
    """Every regular file under `root` (symlinks skipped) copied in, then the manifest;
    returns the manifest's blob id and the files' total size."""
    rules = config.rules
    entries = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not (Path(folder) / d).is_symlink())
        for file_name in sorted(files):
            source = Path(folder) / file_name
            if source.is_symlink() or not source.is_file():
                continue
            relative = source.relative_to(root).as_posix()
            try:
                check_path(relative)
            except BadPath as exc:
                raise BadInput(f"{relative!r} cannot be shared: {exc}; rename it") from None
            layout = disk.import_file(source, rules, on_copied)
            catalog.add(layout, complete=True, mine=True)
            disk.keep_small(catalog, layout, config.inline_bytes)
            entries.append(Entry(relative, layout.size, layout.id))
    try:
        manifest = Manifest.of(entries)
    except LocalProtocolError as exc:
        raise BadInput(f"{root} cannot be shared as it is: {exc}") from None
    layout = disk.import_bytes(manifest.encode(), rules)
    catalog.add(layout, complete=True, mine=True)
    disk.keep_small(catalog, layout, config.inline_bytes)
    return layout.id, manifest.size


def save_folder(
    disk: BlobDir, catalog: Catalog, entries: Sequence[Entry], directory: Path, name: str
) -> Path:
    """A new folder `name` in `directory` holding a copy of every entry."""
    top = make_dir(directory, name)
    made = {top}
    for entry in entries:
        parent = top
        *folders, file_name = entry.path.split("/")
        for folder in folders:
            child = parent / folder
            if child not in made:
                make_dir(parent, folder)
                made.add(child)
            parent = child
        record = catalog.get(entry.blob)
        if record is None or not record.complete:
            raise BadInput(f"{entry.path} is not here any more; fetch the folder again")
        copy_out(disk.source(record), parent, file_name)
    return top
