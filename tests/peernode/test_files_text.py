"""What a person reads about files: sizes, progress, a bar, how many laptops have one."""

from __future__ import annotations

import pytest

from peernode.files import Progress
from peernode.files.text import holders_text, progress_bar, progress_text, size_text

BLOB = bytes(33)


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0 bytes"), (1, "1 byte"), (999, "999 bytes"), (1500, "1.5 KB"), (700_000_000, "700 MB")],
)
def test_sizes_read_as_a_file_manager_shows_them(size: int, shown: str) -> None:
    assert size_text(size) == shown


def test_progress_says_bytes_rate_time_left_and_sources() -> None:
    progress = Progress(BLOB, 12_000_000, 700_000_000, 25_000_000.0, 3)
    assert progress_text(progress) == "12 MB of 700 MB · 25 MB/s · 28 s left · from 3 laptops"
    slow = Progress(BLOB, 0, 700_000_000, 1_000_000.0, 1)
    assert "12 min left · from 1 laptop" in progress_text(slow)
    assert progress_text(Progress(BLOB, 5, 5, 0.0, 0, done=True)) == "5 bytes of 5 bytes · done"


def test_the_bar_fills_with_the_bytes_here() -> None:
    half = Progress(BLOB, 50, 100, 0.0, 0)
    assert progress_bar(half).startswith("[##########----------] 50 bytes of 100 bytes")
    done = Progress(BLOB, 0, 0, 0.0, 0, done=True)
    assert progress_bar(done).startswith("[####################]")


def test_how_many_other_laptops_have_it() -> None:
    assert holders_text(0) == "on no other laptop yet"
    assert holders_text(1) == "on 1 other laptop"
    assert holders_text(3) == "on 3 other laptops"
