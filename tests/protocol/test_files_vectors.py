"""The published blob and manifest test vectors (docs/vectors/files.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from protocol.files import Entry, Manifest, decode_manifest, layout_of

VECTORS_PATH = Path(__file__).resolve().parents[2] / "docs" / "vectors" / "files.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))


def content(spec: dict[str, Any]) -> bytes:
    """A vector's bytes: given as text, or as the pattern (i * 7 + 3) mod 256 of a length."""
    if "text" in spec:
        return str(spec["text"]).encode("utf-8")
    return bytes((i * 7 + 3) % 256 for i in range(int(spec["pattern_length"])))


@pytest.mark.parametrize("vector", VECTORS["blobs"], ids=lambda vector: vector["name"])
def test_blob_vector(vector: dict[str, Any]) -> None:
    layout = layout_of(content(vector))
    assert layout.size == vector["size"]
    assert layout.chunk_size == vector["chunk_size"]
    assert [h.hex() for h in layout.hashes] == vector["chunk_hashes"]
    assert layout.id.hex() == vector["blob_id"]


def test_manifest_vector() -> None:
    vector = VECTORS["folder"]
    entries = [Entry(e["path"], e["size"], bytes.fromhex(e["blob_id"])) for e in vector["entries"]]
    manifest = Manifest.of(entries)
    assert manifest.encode().hex() == vector["manifest"]
    assert decode_manifest(bytes.fromhex(vector["manifest"])) == manifest
    assert layout_of(manifest.encode()).id.hex() == vector["blob_id"]
