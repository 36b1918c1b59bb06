"""One link's outgoing frames: urgent ones (gossip, fresh pushes) ahead of bulk answers.

Rules of this file:
- Plain data, no I/O and no clock: the link's writer task pops, producers put.
- Urgent frames (pushes, announcements, control) are bounded in count: a full queue
  means the peer does not read, and the caller closes the link.
- Bulk frames (answers to Want and Graft) are bounded in bytes: producers check
  `bulk_room()` first and wait, so a big answer never fills memory or the urgent queue.
- Urgent goes first, but after `bulk_after_bytes` of urgent frames in a row one bulk
  frame goes: bulk gets at least frame / (bulk_after_bytes + frame) of the link and is
  never starved, and an urgent frame waits behind at most one bulk frame.
"""

from __future__ import annotations

from collections import deque


class SendQueue:
    """Urgent and bulk frames of one link, popped urgent-first with a share kept for bulk."""

    __slots__ = (
        "_bulk",
        "_bulk_after",
        "_bulk_bytes",
        "_bulk_limit",
        "_urgent",
        "_urgent_limit",
        "_urgent_run",
    )

    def __init__(self, *, urgent_frames: int, bulk_bytes: int, bulk_after_bytes: int) -> None:
        if urgent_frames < 1 or bulk_bytes < 1 or bulk_after_bytes < 0:
            raise ValueError("queue limits must be positive")
        self._urgent: deque[bytes] = deque()
        self._bulk: deque[bytes] = deque()
        self._urgent_limit = urgent_frames
        self._bulk_limit = bulk_bytes
        self._bulk_after = bulk_after_bytes
        self._bulk_bytes = 0
        self._urgent_run = 0  # urgent bytes popped since the last bulk frame

    def __len__(self) -> int:
        return len(self._urgent) + len(self._bulk)

    @property
    def bulk_bytes(self) -> int:
        """Bytes of bulk frames waiting."""
        return self._bulk_bytes

    def put_urgent(self, frame: bytes) -> bool:
        """Queue an urgent frame; False (not queued) when the urgent queue is full."""
        if len(self._urgent) >= self._urgent_limit:
            return False
        self._urgent.append(frame)
        return True

    def bulk_room(self) -> bool:
        """Whether a bulk producer may put another frame now."""
        return self._bulk_bytes < self._bulk_limit

    def put_bulk(self, frame: bytes) -> None:
        """Queue a bulk frame (after `bulk_room()`: the limit is passed by one frame at most)."""
        self._bulk.append(frame)
        self._bulk_bytes += len(frame)

    def pop(self) -> bytes | None:
        """The next frame to write, or None when both queues are empty."""
        if self._bulk and (not self._urgent or self._urgent_run >= self._bulk_after):
            frame = self._bulk.popleft()
            self._bulk_bytes -= len(frame)
            self._urgent_run = 0
            return frame
        if self._urgent:
            frame = self._urgent.popleft()
            self._urgent_run += len(frame)
            return frame
        return None
