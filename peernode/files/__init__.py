"""Files shared with circles: blobs on disk and in their own database, the bulk path."""

from __future__ import annotations

from peernode.files.config import FilesConfig
from peernode.files.model import OnProgress, Presence, Progress, SharedFile
from peernode.files.service import FileService

__all__ = ["FileService", "FilesConfig", "OnProgress", "Presence", "Progress", "SharedFile"]
