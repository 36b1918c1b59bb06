"""Widgets of the TUI; they get data as attributes and report with messages."""
