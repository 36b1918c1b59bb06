"""A peer's address as a person types it: with or without a port, IPv4, names and IPv6."""

from __future__ import annotations

import pytest

from peernode.addresses import DEFAULT_PORT, parse_address
from peernode.errors import BadInput


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.77.0.9", ("10.77.0.9", DEFAULT_PORT)),
        (" 10.77.0.9 ", ("10.77.0.9", DEFAULT_PORT)),
        ("10.77.0.9:7654", ("10.77.0.9", 7654)),
        ("anna-laptop.local", ("anna-laptop.local", DEFAULT_PORT)),
        ("anna-laptop.local:80", ("anna-laptop.local", 80)),
        ("[fe80::1]:7654", ("fe80::1", 7654)),
        ("[fe80::1]", ("fe80::1", DEFAULT_PORT)),
        ("fe80::1", ("fe80::1", DEFAULT_PORT)),
        ("2001:db8::7", ("2001:db8::7", DEFAULT_PORT)),
    ],
)
def test_an_address_with_or_without_a_port(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "type the other laptop's address"),
        (":7420", "expected an address"),
        ("host:0", "port must be a number"),
        ("host:http", "port must be a number"),
        ("host:70000", "port must be a number"),
        ("[fe80::1]:x", "port must be a number"),
        ("[fe80::1", "write an IPv6 address"),
        ("fe80::zz:80", "in brackets"),
        ("two words", "expected an address"),
    ],
)
def test_a_bad_address_says_what_to_type(text: str, problem: str) -> None:
    with pytest.raises(BadInput, match=problem):
        parse_address(text)
