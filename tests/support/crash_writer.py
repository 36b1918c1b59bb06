"""Insert events in batches forever; print each batch's ids once insert_events returned.

Usage: crash_writer.py DB_PATH RUN [BATCH]. Prints "ready" once the database is
open, then one line per acknowledged event id (hex), each batch in one write.
The crash test kills this process with SIGKILL at a random moment.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from peernode.storage.store import Store
from protocol import kinds
from protocol.event import create_event
from protocol.identity import SigningKey


def main() -> None:
    db_path, run = Path(sys.argv[1]), int(sys.argv[2])
    batch_size = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    key = SigningKey.generate()
    store = Store(db_path)
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    number = 0
    while True:
        batch = []
        for _ in range(batch_size):
            batch.append(
                create_event(
                    key,
                    kind=kinds.NOTE,
                    circle="crash",
                    body={"text": f"run {run} note {number} " + "x" * (number % 300)},
                    created_at=number,
                )
            )
            number += 1
        store.insert_events(batch, received_at=run)
        # Acknowledged: the rows are committed (synchronous=FULL) before we say so.
        # One write per batch (< PIPE_BUF), so a kill never leaves half a line.
        os.write(out.fileno(), "".join(event.id.hex() + "\n" for event in batch).encode())


if __name__ == "__main__":
    main()
