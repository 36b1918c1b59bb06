"""Questions a circle's members ask of its state: who can help, who might facilitate."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from peernode.circles.model import CircleState, Helper, Mentor, words
from peernode.views import Profile


def words_match(search: str, texts: Iterable[str]) -> bool:
    """True if every word of `search` begins a word of `texts`, in any case: 'group',
    'GROUP b' and 'by' find 'group by', 'join' finds 'joins'. No words: no match."""
    wanted = words(search)
    have = [word for text in texts for word in words(text)]
    return bool(wanted) and all(any(word.startswith(w) for word in have) for w in wanted)


def tags_match(tags: Iterable[str], search: str) -> bool:
    """The tag search of the CLI and the TUI: `words_match` over the tags."""
    return words_match(search, tags)


def who_can_help(
    state: CircleState,
    topic: str,
    profiles: Sequence[Profile],
    *,
    asker: bytes | None = None,
    mentors: Sequence[Mentor] = (),
) -> list[Helper]:
    """Peers who can help with `topic`: what their profile says they can help with
    matches it, they answered questions whose tags match it, or they hold the badge of
    a challenge about it (`mentors`; all by `words_match`).
    The person asking for help, `asker`, is never one of them. Members of the
    circle first, then by how much evidence, then by name."""
    if not words(topic):
        return []
    known = {profile.key: profile for profile in profiles}
    matches = {p.key for p in profiles if words_match(topic, [p.can_help])}
    answered: dict[bytes, int] = {}
    for question in state.questions:
        if tags_match(question.tags, topic):
            for key in {a.author for a in question.answers if a.author != question.author}:
                answered[key] = answered.get(key, 0) + 1
    held: dict[bytes, list[str]] = {}
    for mentor in mentors:
        if words_match(topic, [mentor.about]) and mentor.badge not in held.get(mentor.key, []):
            held.setdefault(mentor.key, []).append(mentor.badge)
    helpers = []
    for key in (matches | set(answered) | set(held)) - {asker}:
        profile = known.get(key) or Profile.unnamed(key)
        helpers.append(
            Helper(
                key=key,
                name=profile.name,
                can_help=profile.can_help,
                profile_match=key in matches,
                answers=answered.get(key, 0),
                member=state.is_member(key),
                badges=tuple(held.get(key, ())),
            )
        )
    return sorted(
        helpers,
        key=lambda h: (
            not h.member,
            -(h.answers + h.profile_match + len(h.badges)),
            h.name.lower(),
            h.key,
        ),
    )


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
