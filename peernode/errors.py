"""Errors of the node, each with a message a learner can act on."""

from __future__ import annotations


class NodeError(Exception):
    """Base of the node's errors; str(error) is one line fit to show a person."""


class NoIdentity(NodeError):
    """The home holds no identity key yet."""


class IdentityExists(NodeError):
    """Refusing to overwrite an existing identity key."""


class BadInput(NodeError):
    """Input from the learner or a file that cannot be used as it is."""


class StorageError(NodeError):
    """The database cannot be opened, read or written."""
