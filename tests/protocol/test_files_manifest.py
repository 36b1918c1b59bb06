"""Folder manifests and the paths they may hold (protocol/files/manifest.py, paths.py)."""

from __future__ import annotations

import pytest

from protocol.codec import pack
from protocol.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from protocol.files import BadPath, Entry, Manifest, check_path, decode_manifest, layout_of

BLOB = layout_of(b"hello").id


@pytest.mark.parametrize(
    "path",
    [
        "../etc/passwd",
        "a/../../b",
        "/etc/passwd",
        "a\\b",
        "a//b",
        "a/./b",
        "",
        "tab\there",
        "nul\x00",
        "del\x7f",
        "CON",
        "con.txt",
        "Lpt1",
        "dir/aux.tar.gz",
        "COM3 .md",
        "what?",
        "a<b",
        "c:drive",
        'quote"',
        "pipe|",
        "star*",
        "trailing.",
        "trailing ",
        "x/" + "y" * 256,
    ],
)
def test_hostile_or_unportable_paths_are_refused(path: str) -> None:
    with pytest.raises(BadPath):
        check_path(path)


@pytest.mark.parametrize(
    "path", ["week1/slides.pdf", "Übung 3/lösung.py", "console.log", "com10.txt", ".hidden"]
)
def test_ordinary_paths_pass(path: str) -> None:
    assert check_path(path) == tuple(path.split("/"))


def test_a_manifest_round_trips_sorted() -> None:
    manifest = Manifest.of([Entry("b.txt", 5, BLOB), Entry("a/c.txt", 5, BLOB)])
    assert [entry.path for entry in manifest.entries] == ["a/c.txt", "b.txt"]
    assert decode_manifest(manifest.encode()) == manifest
    assert manifest.size == 10


def test_paths_that_collide_ignoring_case_are_refused_both_ways() -> None:
    with pytest.raises(LocalProtocolError):
        Manifest.of([Entry("Notes.txt", 1, BLOB), Entry("notes.TXT", 1, BLOB)])
    rows = [["A/x", 1, BLOB], ["a/y", 1, BLOB], ["a/Y", 1, BLOB]]
    with pytest.raises(BadPath):
        decode_manifest(pack([1, sorted(rows)]))


def test_a_file_cannot_also_be_a_folder() -> None:
    with pytest.raises(BadPath):
        decode_manifest(pack([1, [["a", 1, BLOB], ["a/b", 1, BLOB]]]))


@pytest.mark.parametrize(
    "value",
    [
        [2, []],  # unknown version
        [1, [["b", 1, BLOB], ["a", 1, BLOB]]],  # not sorted
        [1, [["a", 1, BLOB], ["a", 1, BLOB]]],  # twice
        [1, [["a", -1, BLOB]]],
        [1, [["a", True, BLOB]]],
        [1, [["a", 1, BLOB[:-1]]]],
        [1, [["a", 1, b"\x02" + BLOB[1:]]]],  # unknown blob version
        [1, [["a", 1]]],
        [1, "entries"],
    ],
)
def test_malformed_manifests_are_refused(value: object) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_manifest(pack(value))


def test_a_hostile_path_in_a_received_manifest_is_refused() -> None:
    with pytest.raises(BadPath):
        decode_manifest(pack([1, [["../../.bashrc", 1, BLOB]]]))
    with pytest.raises(DecodeError):
        decode_manifest(b"\xc1")
