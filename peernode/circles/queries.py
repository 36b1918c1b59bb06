"""Questions a circle's members ask of its state: who can help, who might facilitate."""

from __future__ import annotations

from collections.abc import Sequence

from peernode.circles.model import CircleState, Helper, words
from peernode.views import Profile


def who_can_help(state: CircleState, topic: str, profiles: Sequence[Profile]) -> list[Helper]:
    """Peers who can help with `topic`: their profile's `can_help` names it (whole
    words, any case), or they answered questions tagged with it. Members of the
    circle first, then by how much evidence, then by name."""
    wanted = words(topic)
    if not wanted:
        return []
    known = {profile.key: profile for profile in profiles}
    matches = {p.key for p in profiles if _contains(words(p.can_help), wanted)}
    answered: dict[bytes, int] = {}
    for question in state.questions:
        if question.tagged(topic):
            for key in {a.author for a in question.answers if a.author != question.author}:
                answered[key] = answered.get(key, 0) + 1
    helpers = []
    for key in matches | set(answered):
        profile = known.get(key) or Profile.unnamed(key)
        helpers.append(
            Helper(
                key=key,
                name=profile.name,
                can_help=profile.can_help,
                profile_match=key in matches,
                answers=answered.get(key, 0),
                member=state.is_member(key),
            )
        )
    return sorted(
        helpers,
        key=lambda h: (not h.member, -(h.answers + h.profile_match), h.name.lower(), h.key),
    )


def _contains(haystack: list[str], needle: list[str]) -> bool:
    size = len(needle)
    return any(haystack[i : i + size] == needle for i in range(len(haystack) - size + 1))


def suggest_facilitators(state: CircleState) -> list[bytes]:
    """Members in the order they might facilitate next: those who never have
    (longest-standing first), then the others, least recently first."""
    last: dict[bytes, int] = {}
    for meeting in state.meetings:
        if meeting.facilitator is not None:
            last[meeting.facilitator] = meeting.starts_at
    never = [member.key for member in state.members if member.key not in last]
    again = sorted(
        (member for member in state.members if member.key in last),
        key=lambda member: (last[member.key], member.since, member.key),
    )
    return never + [member.key for member in again]
