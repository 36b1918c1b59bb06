"""Multi-process, namespace, crash and fault scenarios (marked `system`)."""
