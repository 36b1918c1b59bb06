"""The registry of known event kinds and the rules each enforces."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from protocol.errors import InvalidEvent

BodyRule = Callable[[Mapping[str, Any]], None]
"""Raises InvalidEvent, naming the field, for a body that breaks a kind's rules."""


@dataclass(frozen=True, slots=True)
class KindSpec:
    """What a known kind requires.

    name: the kind string. needs_circle: True when the event must name a
    circle, False when it must not (circle ""). refs: the reference names it
    may carry; required_refs: those it must carry. check_body: raises
    InvalidEvent for a bad body; fields it does not know are tolerated so
    newer clients can add them.
    """

    name: str
    needs_circle: bool
    refs: frozenset[str]
    check_body: BodyRule
    summary: str
    required_refs: frozenset[str] = frozenset()


_REGISTRY: dict[str, KindSpec] = {}


def register(spec: KindSpec) -> KindSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"kind {spec.name} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def is_known(kind: str) -> bool:
    return kind in _REGISTRY


def spec_of(kind: str) -> KindSpec | None:
    return _REGISTRY.get(kind)


def known_kinds() -> list[KindSpec]:
    return sorted(_REGISTRY.values(), key=lambda spec: spec.name)


def validate(*, kind: str, circle: str, refs: Mapping[str, bytes], body: Mapping[str, Any]) -> None:
    """Apply the rules of a known kind; unknown kinds pass unchanged.

    Unknown kinds are valid as long as the envelope is: a node stores and
    forwards them and only declines to render them.
    """
    spec = _REGISTRY.get(kind)
    if spec is None:
        return
    if spec.needs_circle and not circle:
        raise InvalidEvent("circle", f"{kind} events belong to a circle")
    if not spec.needs_circle and circle:
        raise InvalidEvent("circle", f"{kind} events belong to no circle; must be empty")
    for name in refs:
        if name not in spec.refs:
            allowed = ", ".join(sorted(spec.refs)) or "none"
            raise InvalidEvent(f"refs.{name}", f"not allowed on {kind} (allowed: {allowed})")
    for name in sorted(spec.required_refs):
        if name not in refs:
            raise InvalidEvent(f"refs.{name}", f"is required on {kind}")
    spec.check_body(body)
