"""Storage: the SQLite event store and its thread-hosted async face."""
