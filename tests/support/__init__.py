"""Helpers shared by the tests: real nodes, network namespaces, hostile peers, waiting."""
