"""The local API: HTTP and WebSocket on loopback, with tokens, for bots, scripts and pages.

The server (peernode.api.server) is imported by the node when networking starts, so
offline commands that only handle tokens never load aiohttp.
"""

from peernode.api.config import ApiConfig
from peernode.api.tokens import SCOPES, Token, TokenBook

__all__ = ["SCOPES", "ApiConfig", "Token", "TokenBook"]
