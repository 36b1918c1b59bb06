"""Errors of the node, each with a message a learner can act on."""

from __future__ import annotations


class NodeError(Exception):
    """Base of the node's errors; str(error) is one line fit to show a person."""


class NoIdentity(NodeError):
    """The home holds no identity key yet."""


class IdentityExists(NodeError):
    """Refusing to overwrite an existing identity key."""


class HomeInUse(NodeError):
    """Another networked node (serve or the TUI) is running on this home."""


class BadInput(NodeError):
    """Input from the learner or a file that cannot be used as it is."""


class StorageError(NodeError):
    """The database cannot be opened, read or written."""


class StorageUnwritable(StorageError):
    """Writes fail for now (disk full, read-only); reads still work, nothing is damaged."""


class DiskFull(StorageUnwritable):
    """The file system holding the database has no space left."""


class ReadOnlyStorage(StorageUnwritable):
    """The database file or its file system is read-only."""


class StorageDamaged(StorageError):
    """The database file is corrupt: `peernode repair` sets it aside and salvages it."""
