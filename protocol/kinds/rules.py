"""Compact body rules for the tables of kinds, shared by the circle and challenge kinds."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from typing import Any

from protocol.kinds import fields
from protocol.kinds.registry import BodyRule, KindSpec

Rule = Callable[[Mapping[str, Any]], object]
"""Checks part of a body and raises InvalidEvent naming the field; rules run in order."""


def text(name: str, max_bytes: int) -> Rule:
    """A required, non-blank text."""
    return lambda body: fields.text(body, name, max_bytes=max_bytes)


def optional_text(name: str, max_bytes: int) -> Rule:
    """A text that may be absent or empty."""
    return lambda body: fields.text(
        body, name, max_bytes=max_bytes, required=False, allow_empty=True
    )


def some_text(names: tuple[str, ...], max_bytes: int) -> Rule:
    """Optional texts of which at least one is not blank."""

    def check(body: Mapping[str, Any]) -> None:
        for name in names:
            fields.text(body, name, max_bytes=max_bytes, required=False, allow_empty=True)
        fields.at_least_one(body, names)

    return check


def integer(name: str, minimum: int, maximum: int) -> Rule:
    """An optional integer in [minimum, maximum]."""
    return lambda body: fields.integer(body, name, minimum=minimum, maximum=maximum)


def timestamp(name: str) -> Rule:
    return lambda body: fields.timestamp(body, name)


def public_key(name: str) -> Rule:
    """An optional Ed25519 public key (32 bytes)."""
    return lambda body: fields.byte_string(body, name, size=32)


def choice(name: str, choices: frozenset[str]) -> Rule:
    """A required one of `choices`."""
    return lambda body: fields.choice(body, name, choices)


def one_of(name: str, choices: frozenset[str], default: str) -> Rule:
    """One of `choices`, `default` when absent."""
    return lambda body: fields.one_of(body, name, choices, default=default)


def map_of(name: str, *rules: Rule) -> Rule:
    """An optional map whose fields follow `rules`, named by their full path."""

    def check(body: Mapping[str, Any]) -> None:
        value = fields.submap(body, name)
        if value is not None:
            with fields.nested(f"body.{name}"):
                run(rules, value)

    return check


def maps(name: str, max_items: int, *rules: Rule) -> Rule:
    """An optional list of maps (all checked to be maps first), each following `rules`."""

    def check(body: Mapping[str, Any]) -> None:
        for index, item in enumerate(fields.submaps(body, name, max_items=max_items)):
            with fields.nested(f"body.{name}[{index}]"):
                run(rules, item)

    return check


def run(rules: tuple[Rule, ...], body: Mapping[str, Any]) -> None:
    for rule in rules:
        rule(body)


def all_of(*rules: Rule) -> BodyRule:
    return lambda body: run(rules, body)


def circle_kind(
    name: str,
    *rules: Rule,
    summary: str,
    required: Set[str] = frozenset(),
    optional: Set[str] = frozenset(),
) -> KindSpec:
    """A kind that belongs to a circle, with its body rules and its refs."""
    return KindSpec(
        name=name,
        needs_circle=True,
        refs=frozenset(required | optional),
        required_refs=frozenset(required),
        check_body=all_of(*rules),
        summary=summary,
    )
