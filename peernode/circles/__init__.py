"""The study circle: its state from events, queries, the service, the report, its text."""
