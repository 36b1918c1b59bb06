"""What a person reads about challenges, reviews and badges: one text for CLI, TUI and reports.

Names come from a `name_of(key)` function, so this module needs no node; a person is
always their name with their fingerprint, times are local, ids short.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from peernode.challenges.insights import Insights
from peernode.challenges.model import Challenge, ChallengeVersion, Review, Submission
from peernode.circles.text import who
from peernode.text import NameOf, duration_text, local_time, plural, short_id
from protocol import kinds
from protocol.badge_proof import ProofRefused, Verified
from protocol.badges import REFUSALS, Assessment, Badge
from protocol.event import Event

VERDICT_MARK: Final = {"approve": "✓ approves", "revise": "↻ asks to revise"}
"""A review's verdict in words, with a symbol (never colour alone)."""
_VERDICT_DONE: Final = {"approve": "approved it", "revise": "asked for a revision"}
PROMPT_LABELS: Final = (
    ("works", "What works"),
    ("question", "One question"),
    ("suggestion", "One suggestion"),
    ("note", "Note"),
)
"""The prompts that make feedback specific, as a reviewer and a learner read them."""


def glance_rows(found: Insights) -> list[tuple[str, str]]:
    """The challenges' headline numbers for the insights report, as label and value."""
    median = found.median_feedback_ms
    return [
        ("Challenges", str(found.challenges)),
        ("Challenges started", str(found.started)),
        ("Submissions", str(found.submissions)),
        ("Reviews given", str(found.reviews_given)),
        ("Submissions that got feedback", str(found.submissions_reviewed)),
        ("Median time to feedback", "–" if median is None else duration_text(median)),
        ("Badges earned", str(found.badges)),
    ]


def rule_text(k: int, reviewers: str, badge: str) -> str:
    """'2 approvals from circle members': what the badge needs."""
    by = f"holders of “{badge}”" if reviewers == "holders" else "circle members"
    return f"{plural(k, 'approval')} from {by}"


def challenge_line(challenge: Challenge, name_of: NameOf) -> str:
    """One line of a circle's list of challenges."""
    current = challenge.current
    on = plural(len(challenge.cohort), "learner")
    held = plural(len(challenge.holders), "badge")
    return (
        f"“{current.title}” by {who(challenge.author, name_of)} — {on} on it, {held} earned"
        f" (id {short_id(challenge.id)})"
    )


WHO_IS_ON_HEADING: Final = "Learning challenges (who is on which)"
WHO_IS_ON_TITLE: Final = "Who is on which challenge"
"""The same, short enough for the title of a box on the circle's page."""


def who_is_on(challenges: Sequence[Challenge], name_of: NameOf) -> list[str]:
    """Who is on which of a circle's challenges (the cohorts), for the circle's page."""
    if not challenges:
        return []
    return [f"{WHO_IS_ON_HEADING}:", *(f"  {line}" for line in cohort_lines(challenges, name_of))]


def cohort_lines(challenges: Sequence[Challenge], name_of: NameOf) -> list[str]:
    """'“Joins”: Ben (…), Cat (…)': each challenge with who is on it."""
    return [
        f"“{c.current.title}”: {', '.join(who(key, name_of) for key in c.cohort) or 'nobody yet'}"
        for c in challenges
    ]


def challenge_of_each(challenges: Sequence[Challenge]) -> dict[bytes, str]:
    """'on the challenge “Joins”' for each learner on one (no badge for it yet), for the
    check-ins of a meeting."""
    titles: dict[bytes, list[str]] = {}
    for challenge in challenges:
        for key in challenge.cohort:
            if key not in challenge.holders:
                titles.setdefault(key, []).append(f"“{challenge.current.title}”")
    return {
        key: f"on the challenge{'s' if len(named) > 1 else ''} {', '.join(named)}"
        for key, named in titles.items()
    }


FilesShown = Mapping[bytes, str]
"""The shared files here, each as `peernode.files.text.attachment_text` writes it."""


def files_lines(ids: Sequence[bytes], shown: FilesShown) -> list[str]:
    """One line a file a challenge or a submission names: its name, size, whether here."""
    return [
        f"  File: {shown[file]}" if file in shown else f"  File {short_id(file)}: {_NOT_SHARED}"
        for file in ids
    ]


_NOT_SHARED: Final = "not known here yet (its sharing has not arrived)"


def challenge_lines(
    challenge: Challenge, name_of: NameOf, files: FilesShown | None = None
) -> list[str]:
    """The whole challenge: question, tasks, rubric, badge, cohort, work and holders;
    `files`: how to name the shared files it and its work refer to."""
    shown = files or {}
    current = challenge.current
    lines = [
        f"“{current.title}” in #{challenge.circle}, by {who(challenge.author, name_of)}"
        f" (id {short_id(challenge.id)}, {plural(len(challenge.versions), 'version')})",
        f"  {current.question}",
    ]
    if current.description:
        lines.append(f"  {current.description}")
    lines += [
        f"  Resource: {link.title + ' ' if link.title else ''}{link.url}"
        for link in current.resources
    ]
    lines += files_lines(current.files, shown)
    lines.append("Tasks:")
    lines += [f"  {n}. {task}" for n, task in enumerate(current.tasks, 1)]
    lines.append("Goal (what meeting each criterion looks like):")
    lines += [f"  {n}. {c.name}: {c.meets}" for n, c in enumerate(current.criteria, 1)]
    image = f" (image: file {short_id(current.badge_image)})" if current.badge_image else ""
    lines.append(f"Badge: “{current.badge_name}”{_after(current.badge_description)}{image}")
    if challenge.versions[0].forked_from:
        lines.append(f"  Made from challenge {short_id(challenge.versions[0].forked_from)}.")
    lines.append(f"  It needs {rule_text(current.k, current.reviewers, current.badge_name)}.")
    lines.append(_people("On it", challenge.cohort, name_of))
    for one, other in challenge.buddies:
        lines.append(f"  Buddies: {who(one, name_of)} and {who(other, name_of)}")
    for one, other in challenge.suggested_buddies():
        lines.append(
            f"  Buddies? {who(one, name_of)} and {who(other, name_of)} could pair up: each"
            " asks the other (challenge buddy ID NAME)"
        )
    for submission in challenge.submissions:
        version = challenge.version(submission.version)
        lines += submission_lines(submission, version, name_of, shown)
    lines.append(_people("Holders (they can help)", challenge.holders, name_of))
    return lines


def _after(description: str) -> str:
    return f" — {description}" if description else ""


def _people(label: str, keys: tuple[bytes, ...], name_of: NameOf) -> str:
    return f"{label}: {', '.join(who(key, name_of) for key in keys) or 'nobody yet'}"


def submission_lines(
    submission: Submission,
    version: ChallengeVersion,
    name_of: NameOf,
    files: FilesShown | None = None,
) -> list[str]:
    """A submission, its state, and its reviews with their feedback."""
    state = (
        "replaced by a revision"
        if submission.replaced
        else "badge earned"
        if submission.earned
        else f"{submission.approvals} of {submission.needed} approvals"
    )
    revision = " (a revision)" if submission.previous else ""
    count = f", {plural(len(submission.files), 'file')}" if submission.files else ""
    lines = [
        f"Submission{revision} by {who(submission.author, name_of)},"
        f" {local_time(submission.created_at)}{count} — {state} (id {short_id(submission.id)})"
    ]
    lines += [f"  | {line}" for line in submission.text.splitlines()[:20]]
    lines += files_lines(submission.files, files or {})
    for review in submission.reviews:
        lines += review_lines(review, version, name_of)
    return lines


def review_lines(review: Review, version: ChallengeVersion, name_of: NameOf) -> list[str]:
    """A review: verdict, rubric (meets / not yet), the prompts' answers, and if it counts."""
    counts = "" if review.refusal is None else f" — does not count: {REFUSALS[review.refusal]}"
    lines = [
        f"  {who(review.reviewer, name_of)} {VERDICT_MARK[review.verdict]},"
        f" {local_time(review.created_at)}{counts}"
    ]
    for index, criterion in enumerate(version.criteria):
        mark = "✓ meets" if index in review.meets else "· not yet"
        lines.append(f"    {mark}: {criterion.name}")
    for field, label in PROMPT_LABELS:
        said = getattr(review, field)
        if said:
            lines.append(f"    {label}: {said}")
    return lines


def badge_line(badge: Badge, name_of: NameOf) -> str:
    """'Ben (…) earned “Join explorer” in #sql on …, approved by Cat (…), Dan (…)'."""
    approvers = ", ".join(who(a.reviewer, name_of) for a in badge.approvals)
    return (
        f"✓ {who(badge.holder, name_of)} earned “{badge.rule.badge_name}” in"
        f" #{badge.rule.circle} on {local_time(badge.earned_at)}, approved by {approvers}"
        f" (submission {short_id(badge.submission)})"
    )


def review_wanted_text(titles: Sequence[str], circle: str) -> str:
    """'Work for “Joins” waits for your review in #sql: press l there.'"""
    named = ", ".join(dict.fromkeys(f"“{title}”" for title in titles))
    count = f"{len(titles)} submissions for" if len(titles) > 1 else "Work for"
    verb = "wait" if len(titles) > 1 else "waits"
    return f"{count} {named} {verb} for your review in #{circle}: press l there."


def my_badges_text(badges: Sequence[Badge]) -> str:
    """My badges, for my profile: what, where, when, and how to carry one."""
    if not badges:
        return "No badges yet: a circle's challenges (l) lead to them."
    lines = [f"Your badges ({len(badges)}):"]
    lines += [
        f"✓ “{b.rule.badge_name}” in #{b.rule.circle}, {local_time(b.earned_at)}"
        f" — peernode badge export {short_id(b.submission)} -o FILE"
        for b in badges
    ]
    return "\n".join(lines)


def verified_lines(verified: Verified, name_of: NameOf) -> list[str]:
    """What `badge verify` prints for a proof that holds."""
    badge = verified.badge
    rule = badge.rule
    challenge = verified.events[rule.version]
    lines = [
        "✓ The badge verifies: every signature, and the rule of its challenge.",
        f"{who(badge.holder, name_of)} earned “{rule.badge_name}”{_after(rule.badge_description)}",
        f"  on {local_time(badge.earned_at)}, for the challenge “{challenge.body['title']}”"
        f" in #{rule.circle} by {who(rule.author, name_of)}",
        f"  It needs {rule_text(rule.k, rule.reviewers, rule.badge_name)}; approved by:",
    ]
    lines += [f"  - {who(a.reviewer, name_of)} on {local_time(a.at)}" for a in badge.approvals]
    return lines


def refused_text(error: ProofRefused, name_of: NameOf) -> str:
    """Why a badge file does not verify, in one sentence (what to do next included)."""
    if error.code == "too-few-approvals" and error.assessment is not None:
        return _too_few(error.assessment, name_of)
    where = f"event {error.position + 1}" if error.position is not None else "the file"
    said = _REFUSED.get(error.code)
    reason = said(error, where) if said else error.code
    return f"The badge does not verify: {reason}."


_REFUSED: Final[Mapping[str, Callable[[ProofRefused, str], str]]] = {
    "too-many-events": lambda e, w: f"the file holds too many events ({e.detail})",
    "bad-event": lambda e, w: (
        f"{w} (id {short_id(e.event)}) is not what its author signed ({e.detail}); the file"
        " was changed after it was made: ask the holder for a fresh export"
    ),
    "duplicate-event": lambda e, w: f"{w} (id {short_id(e.event)}) is in the file twice",
    "missing-submission": lambda e, w: (
        f"the work it claims (id {short_id(e.event)}) is not in the file"
    ),
    "missing-challenge": lambda e, w: (
        f"the challenge (id {short_id(e.event)}) or one of its versions is not in the file,"
        " or was changed by someone other than its author"
    ),
}


def _too_few(assessment: Assessment, name_of: NameOf) -> str:
    rule = assessment.rule
    why = "; ".join(f"{who(r.reviewer, name_of)}: {REFUSALS[r.code]}" for r in assessment.refused)
    return (
        f"The badge does not verify: “{rule.badge_name}” needs"
        f" {rule_text(rule.k, rule.reviewers, rule.badge_name)} and"
        f" {len(assessment.approvals)} count{' — ' + why if why else ''}."
    )


def done_line(event: Event, title: str = "") -> str:
    """What signing a challenge event did, with its short id for later commands."""
    said = _DONE.get(event.kind)
    what = said(event.body, f"“{title}”" if title else "the challenge") if said else "Signed"
    return f"{what} in #{event.circle} (id {short_id(event.id)})."


_DONE: Final[Mapping[str, Callable[[Mapping[str, Any], str], str]]] = {
    kinds.CHALLENGE: lambda body, _: f"Wrote the challenge “{body.get('title', '')}”",
    kinds.START: lambda body, title: f"You are on {title}",
    kinds.SUBMISSION: lambda body, title: f"Submitted your work for {title}",
    kinds.REVIEW: lambda body, title: (
        f"Reviewed a submission for {title}: you {_VERDICT_DONE[body['verdict']]}"
    ),
    kinds.BUDDY: lambda body, title: f"Asked to pair as buddies on {title}",
}
