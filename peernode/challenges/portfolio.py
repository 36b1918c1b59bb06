"""A badge as one file: the signed events that prove it, in a page a person can read.

Rules of this file (docs/protocol-challenges.md §4.1, §4.2):
- The page is for people; a verifier reads only the JSON in its one proof element.
- A file is made from a proof that verifies here first: what is exported verifies.
- Reading a file bounds its size and checks its shape before any event is decoded.
"""

from __future__ import annotations

import contextlib
import html
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from peernode.challenges.text import verified_lines
from peernode.errors import BadInput
from peernode.text import NameOf, short_fingerprint
from peernode.views import Profile
from protocol import kinds
from protocol.badge_proof import Verified, verify_proof
from protocol.errors import ProtocolError
from protocol.event import Event, decode_event

PROOF_FORMAT: Final = "peernode-badge-proof/1"
MAX_FILE_BYTES: Final = 8 * 1024 * 1024
PROOF_ELEMENT: Final = '<script type="application/json" id="peernode-badge-proof">'
FORMATS: Final = ("page", "openbadges")
"""What `badge export --format` writes: the page (default), or Open Badges 3.0 JSON."""


def proof_object(submission: bytes, events: Iterable[Event]) -> dict[str, Any]:
    """The proof as JSON: the format, the submission claimed and every event, hex-encoded."""
    return {
        "format": PROOF_FORMAT,
        "submission": submission.hex(),
        "events": [event.raw.hex() for event in events],
    }


def names_in(events: Iterable[Event]) -> NameOf:
    """Names from the newest profile of each author among `events` (else 'anon-…')."""
    newest: dict[bytes, Event] = {}
    for event in events:
        if event.kind == kinds.PROFILE and (
            event.author not in newest or event.created_at > newest[event.author].created_at
        ):
            newest[event.author] = event
    profiles = {key: Profile.from_event(event) for key, event in newest.items()}
    return lambda key: (profiles.get(key) or Profile.unnamed(key)).name


def file_names(data: bytes) -> NameOf:
    """Names from the profiles in a badge file whose signatures hold (for why it fails)."""
    try:
        raws = [bytes.fromhex(raw) for raw in read_proof(data)["events"]]
    except BadInput:
        raws = []
    good = []
    for raw in raws:
        with contextlib.suppress(ProtocolError):
            good.append(decode_event(raw))
    return names_in(good)


def verify_file(data: bytes) -> tuple[Verified, NameOf]:
    """Verify a badge file (a page or Open Badges JSON); ProofRefused says why not."""
    proof = read_proof(data)
    raws = [bytes.fromhex(raw) for raw in proof["events"]]
    verified = verify_proof(raws, bytes.fromhex(proof["submission"]))
    return verified, names_in(verified.events.values())


def page(submission: bytes, events: Sequence[Event]) -> str:
    """The badge page: what `badge verify` says of it, then the proof it rests on."""
    verified, name_of = verify_file(json.dumps(proof_object(submission, events)).encode("utf-8"))
    lines = verified_lines(verified, name_of)[1:]
    title = html.escape(f"{name_of(verified.badge.holder)}: {verified.badge.rule.badge_name}")
    body = "\n".join(f"<p>{html.escape(line.strip())}</p>" for line in lines)
    proof = json.dumps(proof_object(submission, events), indent=1)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n{body}\n"
        "<p>This page holds the signed events that prove the badge. Check them, with no"
        " network and no server: <code>peernode badge verify THIS-FILE</code>. Only the"
        " events count; the text above is what they said when the page was made.</p>\n"
        f"{PROOF_ELEMENT}\n{proof}\n</script>\n</body>\n</html>\n"
    )


def open_badges(submission: bytes, events: Sequence[Event]) -> dict[str, Any]:
    """An Open Badges 3.0-shaped credential; unsigned, with the peernode proof as evidence."""
    verified, name_of = verify_file(json.dumps(proof_object(submission, events)).encode("utf-8"))
    badge = verified.badge
    rule = badge.rule
    challenge = verified.events[rule.version].body
    criteria = "; ".join(f"{c['name']}: {c['meets']}" for c in challenge["criteria"])
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": f"urn:peernode:badge:{badge.submission.hex()}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": rule.badge_name,
        "issuer": {
            "id": f"urn:peernode:key:{rule.author.hex()}",
            "type": ["Profile"],
            "name": f"{name_of(rule.author)} ({short_fingerprint(rule.author)})",
        },
        "validFrom": _iso(badge.earned_at),
        "credentialSubject": {
            "id": f"urn:peernode:key:{badge.holder.hex()}",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": f"urn:peernode:challenge:{rule.challenge.hex()}",
                "type": ["Achievement"],
                "name": rule.badge_name,
                "description": rule.badge_description or challenge["title"],
                "criteria": {
                    "narrative": f"{challenge['question']} Approved by {rule.k} peers"
                    f" ({rule.reviewers}) against: {criteria}"
                },
            },
        },
        "evidence": [
            {
                "id": f"urn:peernode:submission:{badge.submission.hex()}",
                "type": ["Evidence"],
                "name": "peernode badge proof (verify with: peernode badge verify FILE)",
                **proof_object(submission, events),
            }
        ],
    }


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_proof(data: bytes) -> dict[str, Any]:
    """The proof object of a badge file, its shape checked; BadInput says what is wrong."""
    if len(data) > MAX_FILE_BYTES:
        raise BadInput(f"this file is larger than a badge file can be ({MAX_FILE_BYTES} bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("this is not a badge file (it is not text)") from None
    start = text.find(PROOF_ELEMENT)
    if start >= 0:
        end = text.find("</script>", start)
        text = text[start + len(PROOF_ELEMENT) : end if end >= 0 else len(text)]
    try:
        found = json.loads(text)
    except ValueError:
        raise BadInput("this is not a badge file: no proof in it") from None
    if isinstance(found, dict) and isinstance(found.get("evidence"), list) and found["evidence"]:
        found = found["evidence"][0]  # the Open Badges rendering carries the proof as evidence
    return _checked(found)


def _checked(found: Any) -> dict[str, Any]:
    if not isinstance(found, dict) or found.get("format") != PROOF_FORMAT:
        raise BadInput(f"this is not a badge file: no {PROOF_FORMAT} proof in it")
    events, submission = found.get("events"), found.get("submission")
    if not isinstance(events, list) or not all(_is_hex(raw) for raw in events):
        raise BadInput("the proof in this badge file is damaged: its events are not hex")
    if not isinstance(submission, str) or len(submission) != 64 or not _is_hex(submission):
        raise BadInput("the proof in this badge file is damaged: it names no submission")
    return found


def _is_hex(value: Any) -> bool:
    if not isinstance(value, str) or len(value) % 2:
        return False
    try:
        bytes.fromhex(value)
    except ValueError:
        return False
    return True


def write_new(path: Path, text: str, *, force: bool) -> None:
    """Write `text` to `path`; never over an existing file unless `force`."""
    try:
        with path.open("w" if force else "x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:
        raise BadInput(f"{path} exists already: choose another name, or add --force") from None
