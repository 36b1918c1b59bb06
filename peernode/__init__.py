"""The asyncio node: storage, discovery, peer links, gossip, the local API and the CLI."""
