"""The learner's own moderation (mute, block, hide) and admission by relationship."""

from peernode.moderation.model import HiddenEvent, ModeratedPerson, ModerationList
from peernode.moderation.policy import CONTENT_KINDS, Policy

__all__ = ["CONTENT_KINDS", "HiddenEvent", "ModeratedPerson", "ModerationList", "Policy"]
