"""A peer flooding 1,000 events/s over a real link: throttled, then closed and kept away,
while an honest peer's notes keep arriving (figures: bench/flood.py)."""

from __future__ import annotations

from pathlib import Path

from protocol.gossip import config as c
from tests.support.flooding import HONEST_NOTES, run_flood


async def test_a_flooder_is_throttled_then_dropped_and_honest_notes_still_arrive(
    tmp_path: Path,
) -> None:
    result = await run_flood(tmp_path, rate=1000, seconds=8.0)
    assert result.closed_reason.startswith("flooding"), result
    # Throttled: of what it wrote before the close, only the burst and the sustained rate
    # got in (a frame in flight at each end of the window may add a little).
    assert result.offered > result.stored
    assert result.stored <= c.PUSH_BURST + c.PUSH_RATE * result.flood_seconds + 200, result
    # Closed well before the flood ran out, and not let back in.
    assert result.offered < 8000, result
    assert result.refused_again, result
    assert not result.relinked, result
    # Every honest note posted during the flood reached Vera.
    assert result.honest_sent >= HONEST_NOTES
    assert result.honest_missing == 0, result
