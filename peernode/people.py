"""Finding a person from what a learner types: a name, a fingerprint or a key."""

from __future__ import annotations

from collections.abc import Iterable

from peernode.errors import BadInput
from peernode.text import NameOf
from protocol.identity import fingerprint


def resolve_person(text: str, people: Iterable[bytes], name_of: NameOf, *, what: str) -> bytes:
    """The one of `people` that `text` names: a fingerprint (or its start, ≥ 4 characters),
    a key in hex (whole or ≥ 8 leading digits), or a unique display name.

    what: how the error names the argument ('facilitator', 'person')."""
    wanted = text.strip().lower()
    known = set(people)
    by_key = [
        key
        for key in known
        if (len(wanted) >= 8 and key.hex().startswith(wanted))
        or (len(wanted) >= 4 and fingerprint(key).startswith(wanted))
    ]
    if len(by_key) == 1:
        return by_key[0]
    if len(wanted) == 64 and not wanted.strip("0123456789abcdef"):
        return bytes.fromhex(wanted)
    by_name = [key for key in known if name_of(key).lower() == wanted]
    if len(by_name) == 1:
        return by_name[0]
    problem = "matches several people" if by_key or by_name else "is nobody known here"
    raise BadInput(f"{what} {text!r} {problem} (use a name or a fingerprint)")
