"""The study circle in the TUI: its page, meeting mode, questions, report and their dialogs."""
