"""peernode's terminal UI: a Textual app over the node facade (see tui/app.py)."""
