"""Storage: the SQLite event store and its thread-hosted async face."""

from peernode.storage.async_store import AsyncStore
from peernode.storage.faults import DISK_FULL_MESSAGE, check_file
from peernode.storage.forgetting import TemporaryAuthors
from peernode.storage.local import LocalRules
from peernode.storage.moderation import Level, Moderation
from peernode.storage.salvage import Salvage, salvage_from
from peernode.storage.schema import MIGRATIONS
from peernode.storage.store import ChannelCount, KnownPeer, Store, StoredEvent

__all__ = [
    "DISK_FULL_MESSAGE",
    "MIGRATIONS",
    "AsyncStore",
    "ChannelCount",
    "KnownPeer",
    "Level",
    "LocalRules",
    "Moderation",
    "Salvage",
    "Store",
    "StoredEvent",
    "TemporaryAuthors",
    "check_file",
    "salvage_from",
]
