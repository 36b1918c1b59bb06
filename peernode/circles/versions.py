"""Which circle version is current: the `updates` chain decides, claimed times only break ties.

Rules of this file:
- A version supersedes every version it `updates`, directly or through a chain,
  whatever times they claim: a member's next version always replaces the one it
  was written against, so a version claiming a far future cannot lock a circle.
- The heads are the versions no live version supersedes. The current version is
  the newest head by (created_at, id); two members who edit at once both make
  heads, and the next edit (which updates the current one) joins them again.
- Everything is computed from the set of versions: every node agrees.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar


class Versioned(Protocol):
    """A version in an `updates` chain (a circle's, a challenge's)."""

    @property
    def id(self) -> bytes: ...

    @property
    def created_at(self) -> int: ...

    @property
    def updates(self) -> bytes | None: ...


V = TypeVar("V", bound=Versioned)


def current_version(versions: Iterable[V]) -> V | None:
    """The version shown (None when there is none): a circle's description, a challenge's."""
    listed = list(versions)
    ids = {version.id for version in listed}
    superseded = {version.updates for version in listed if version.updates in ids}
    heads = [version for version in listed if version.id not in superseded]
    return max(heads, key=lambda version: (version.created_at, version.id), default=None)
