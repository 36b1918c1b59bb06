"""Rules of the study-circle kinds: round trips, every bad field named, newer fields
tolerated, and the published test vectors."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from protocol import kinds
from protocol.codec import pack
from protocol.errors import InvalidEvent, LocalProtocolError
from protocol.event import SIGNING_CONTEXT, create_event, decode_event
from protocol.identity import SigningKey

KEY = SigningKey.from_seed(b"\x05" * 32)
ID = b"\x06" * 32
ROOT = Path(__file__).resolve().parents[2]
M = {"meeting": ID}
Q = {"question": ID}
T = {"target": ID}


def remote(kind: str, body: Any, refs: Any = None, circle: str = "sql") -> bytes:
    """Signed bytes as another client might send them, bypassing create_event's checks."""
    content = pack([1, KEY.public_key, 1_000, kind, circle, refs or {}, body])
    return KEY.sign(SIGNING_CONTEXT + content) + content


def k(name: str) -> str:
    return f"peernode/{name}@1"


LINK = {"url": "https://example.org/c", "title": "Course", "licence": "CC-BY-4.0"}
RHYTHM = {"cadence": "biweekly", "duration_minutes": 90, "weeks": 8}
AGENDA = {
    "checkin": "How are you?",
    "coursework": "Chapter 3",
    "activity": {"title": "Quiz", "minutes": 15},
    "plusdelta": "One each",
}

# kind, body, refs: the fullest valid event of each kind of CIRCLE_KINDS (with edit and
# delete, whose rules live in core.py)
FULL: list[tuple[str, dict[str, Any], dict[str, bytes]]] = [
    (
        "circle",
        {
            "name": "SQL",
            "topic": "databases",
            "description": "Six weeks",
            "resources": [LINK, {"url": "magnet:?xt=urn:btih:abc"}],
            "rhythm": RHYTHM,
            "language": "en",
        },
        {"updates": ID},
    ),
    ("join", {"message": "hi"}, {}),
    ("leave", {"message": "bye"}, {}),
    (
        "resource",
        {
            "url": "https://example.org/x.pdf",
            "title": "X",
            "description": "d",
            "tags": ["sql", "é" * 32],
            "licence": "CC0",
        },
        {},
    ),
    (
        "meeting",
        {
            "starts_at": 2**53 - 1,
            "duration_minutes": 1440,
            "place": "Library",
            "facilitator": KEY.public_key,
            "agenda": AGENDA,
        },
        {"previous": ID},
    ),
    ("rsvp", {"answer": "maybe"}, M),
    ("attendance", {"note": "late"}, M),
    ("checkin", {"feeling": "ok", "working_on": "joins", "need_help": "outer joins"}, M),
    ("plusdelta", {"plus": "quiz", "delta": "time"}, M),
    ("question", {"title": "Why?", "text": "Because", "tags": ["sql"]}, {}),
    ("answer", {"text": "This"}, Q),
    ("resolved", {"note": "thanks"}, {"question": ID, "answer": ID}),
    ("edit", {"title": "New", "text": None}, T),
    ("delete", {"reason": "dup"}, T),
]

MINIMAL: list[tuple[str, dict[str, Any], dict[str, bytes]]] = [
    ("circle", {"name": "SQL"}, {}),
    ("join", {}, {}),
    ("leave", {}, {}),
    ("resource", {"url": "https://e.org", "title": "E"}, {}),
    ("meeting", {"starts_at": 0}, {}),
    ("rsvp", {"answer": "no"}, M),
    ("attendance", {}, M),
    ("checkin", {"need_help": "x"}, M),
    ("plusdelta", {"delta": "x"}, M),
    ("question", {"title": "?"}, {}),
    ("answer", {"text": "!"}, Q),
    ("resolved", {}, Q),
    ("edit", {"x": 1}, T),
    ("delete", {}, T),
]


@pytest.mark.parametrize(("name", "body", "refs"), FULL + MINIMAL)
def test_valid_round_trip(name: str, body: dict[str, Any], refs: dict[str, bytes]) -> None:
    event = create_event(KEY, kind=k(name), circle="sql", body=body, refs=refs, created_at=5)
    decoded = decode_event(event.raw)
    assert decoded == event
    assert dict(decoded.body) == body
    assert dict(decoded.refs) == refs
    assert decoded.known_kind


@pytest.mark.parametrize(("name", "body", "refs"), FULL)
def test_newer_fields_are_tolerated(
    name: str, body: dict[str, Any], refs: dict[str, bytes]
) -> None:
    newer = {**body, "v2_field": {"anything": [1, 2.5, None]}, "emoji": "🙂"}
    for nested in ("rhythm", "agenda"):
        if nested in newer:
            newer[nested] = {**newer[nested], "later": True}
    if "agenda" in newer:
        newer["agenda"]["activity"] = {**newer["agenda"]["activity"], "materials": ["dice"]}
    if "resources" in newer:
        newer["resources"] = [{**LINK, "size": 10}]
    event = decode_event(remote(k(name), newer, refs))
    assert dict(event.body) == newer


def test_every_circle_kind_is_registered_and_needs_a_circle() -> None:
    names = {spec.name for spec in kinds.known_kinds()}
    assert names >= kinds.CIRCLE_KINDS
    assert len(kinds.CIRCLE_KINDS) == 14
    for kind in kinds.CIRCLE_KINDS:
        spec = kinds.spec_of(kind)
        assert spec is not None
        assert spec.needs_circle
    refs = {name: kinds.spec_of(k(name)).refs for name, _, _ in FULL}  # type: ignore[union-attr]
    assert refs == {
        "circle": {"updates"},
        "join": set(),
        "leave": set(),
        "resource": set(),
        "meeting": {"previous"},
        "rsvp": {"meeting"},
        "attendance": {"meeting"},
        "checkin": {"meeting"},
        "plusdelta": {"meeting"},
        "question": set(),
        "answer": {"question"},
        "resolved": {"question", "answer"},
        "edit": {"target"},
        "delete": {"target"},
    }


def bad(name: str, body: Any, refs: Any = None, circle: str = "sql") -> bytes:
    return remote(k(name), body, refs, circle)


C = {"name": "SQL"}
R = {"url": "https://e.org", "title": "E"}
S = {"starts_at": 0}


def circle(**fields: Any) -> bytes:
    return bad("circle", {**C, **fields})


def link(**fields: Any) -> bytes:
    return circle(resources=[{**LINK, **fields}])


def rhythm(**fields: Any) -> bytes:
    return circle(rhythm=fields)


def resource(**fields: Any) -> bytes:
    return bad("resource", {**R, **fields})


def meeting(**fields: Any) -> bytes:
    return bad("meeting", {**S, **fields})


def agenda(**fields: Any) -> bytes:
    return meeting(agenda=fields)


def activity(**fields: Any) -> bytes:
    return agenda(activity={"title": "q", **fields})


BAD = [
    # circle
    ("circle without name", bad("circle", {}), "body.name"),
    ("circle name blank", bad("circle", {"name": "  "}), "body.name"),
    ("circle name too long", bad("circle", {"name": "x" * 129}), "body.name"),
    ("circle name int", bad("circle", {"name": 1}), "body.name"),
    ("circle topic too long", circle(topic="x" * 257), "body.topic"),
    ("circle topic list", circle(topic=["x"]), "body.topic"),
    ("circle description too long", circle(description="é" * 4097), "body.description"),
    ("circle resources map", circle(resources={}), "body.resources"),
    ("circle resources too many", circle(resources=[LINK] * 65), "body.resources"),
    ("circle resource not map", circle(resources=[LINK, "x"]), "body.resources[1]"),
    ("circle resource no url", link(url=None), "body.resources[0].url"),
    ("circle resource url spaces", link(url="https://a b"), "body.resources[0].url"),
    ("circle resource url too long", link(url="https://" + "a" * 2041), "body.resources[0].url"),
    ("circle resource title int", link(title=3), "body.resources[0].title"),
    ("circle resource licence long", link(licence="x" * 129), "body.resources[0].licence"),
    ("circle rhythm list", circle(rhythm=[]), "body.rhythm"),
    ("circle cadence daily", rhythm(cadence="daily"), "body.rhythm.cadence"),
    ("circle duration zero", rhythm(duration_minutes=0), "body.rhythm.duration_minutes"),
    ("circle duration float", rhythm(duration_minutes=1.5), "body.rhythm.duration_minutes"),
    ("circle duration bool", rhythm(duration_minutes=True), "body.rhythm.duration_minutes"),
    ("circle weeks too many", rhythm(weeks=521), "body.rhythm.weeks"),
    ("circle language too long", circle(language="x" * 36), "body.language"),
    ("circle without circle", bad("circle", C, circle=""), "circle"),
    ("circle previous ref", bad("circle", C, {"previous": ID}), "refs.previous"),
    # join, leave
    ("join message too long", bad("join", {"message": "x" * 513}), "body.message"),
    ("join message int", bad("join", {"message": 5}), "body.message"),
    ("join with ref", bad("join", {}, {"target": ID}), "refs.target"),
    ("leave message bytes", bad("leave", {"message": b"x"}), "body.message"),
    ("leave without circle", bad("leave", {}, circle=""), "circle"),
    # resource
    ("resource without url", bad("resource", {"title": "x"}), "body.url"),
    ("resource url no scheme", bad("resource", {**R, "url": "example.org"}), "body.url"),
    ("resource url control", bad("resource", {**R, "url": "https://e.org/\x00"}), "body.url"),
    ("resource without title", bad("resource", {"url": "https://e.org"}), "body.title"),
    ("resource title too long", bad("resource", {**R, "title": "x" * 257}), "body.title"),
    ("resource description too long", resource(description="x" * 4097), "body.description"),
    ("resource tags str", bad("resource", {**R, "tags": "sql"}), "body.tags"),
    ("resource tags too many", bad("resource", {**R, "tags": ["t"] * 17}), "body.tags"),
    ("resource tag too long", bad("resource", {**R, "tags": ["ok", "t" * 33]}), "body.tags[1]"),
    ("resource tag blank", bad("resource", {**R, "tags": [" "]}), "body.tags[0]"),
    ("resource tag int", bad("resource", {**R, "tags": [1]}), "body.tags[0]"),
    ("resource tag newline", bad("resource", {**R, "tags": ["a\nb"]}), "body.tags[0]"),
    ("resource licence too long", bad("resource", {**R, "licence": "x" * 129}), "body.licence"),
    # meeting
    ("meeting without start", bad("meeting", {}), "body.starts_at"),
    ("meeting start negative", bad("meeting", {"starts_at": -1}), "body.starts_at"),
    ("meeting start too big", bad("meeting", {"starts_at": 2**53}), "body.starts_at"),
    ("meeting start str", bad("meeting", {"starts_at": "2026-12-01"}), "body.starts_at"),
    ("meeting duration zero", meeting(duration_minutes=0), "body.duration_minutes"),
    ("meeting duration too long", meeting(duration_minutes=1441), "body.duration_minutes"),
    ("meeting place too long", bad("meeting", {**S, "place": "x" * 257}), "body.place"),
    ("meeting facilitator short", meeting(facilitator=b"x" * 31), "body.facilitator"),
    ("meeting facilitator hex", bad("meeting", {**S, "facilitator": ID.hex()}), "body.facilitator"),
    ("meeting agenda str", bad("meeting", {**S, "agenda": "x"}), "body.agenda"),
    ("meeting checkin too long", agenda(checkin="x" * 4097), "body.agenda.checkin"),
    ("meeting coursework int", agenda(coursework=1), "body.agenda.coursework"),
    ("meeting plusdelta list", agenda(plusdelta=[]), "body.agenda.plusdelta"),
    ("meeting activity str", agenda(activity="x"), "body.agenda.activity"),
    ("meeting activity no title", activity(title=None), "body.agenda.activity.title"),
    ("meeting activity minutes 0", activity(minutes=0), "body.agenda.activity.minutes"),
    ("meeting activity minutes 181", activity(minutes=181), "body.agenda.activity.minutes"),
    ("meeting updates ref", bad("meeting", S, {"updates": ID}), "refs.updates"),
    # rsvp, attendance
    ("rsvp without answer", bad("rsvp", {}, M), "body.answer"),
    ("rsvp answer perhaps", bad("rsvp", {"answer": "perhaps"}, M), "body.answer"),
    ("rsvp answer bool", bad("rsvp", {"answer": True}, M), "body.answer"),
    ("rsvp question ref", bad("rsvp", {"answer": "yes"}, Q), "refs.question"),
    ("attendance note too long", bad("attendance", {"note": "x" * 513}, M), "body.note"),
    ("attendance target ref", bad("attendance", {}, T), "refs.target"),
    # checkin, plusdelta
    ("checkin empty", bad("checkin", {}, M), "body"),
    ("checkin all blank", bad("checkin", {"feeling": " ", "need_help": ""}, M), "body"),
    ("checkin feeling too long", bad("checkin", {"feeling": "x" * 1025}, M), "body.feeling"),
    ("checkin working_on int", bad("checkin", {"working_on": 1}, M), "body.working_on"),
    ("checkin need_help too long", bad("checkin", {"need_help": "é" * 513}, M), "body.need_help"),
    ("plusdelta empty", bad("plusdelta", {}, M), "body"),
    ("plusdelta plus too long", bad("plusdelta", {"plus": "x" * 1025}, M), "body.plus"),
    ("plusdelta delta map", bad("plusdelta", {"delta": {}}, M), "body.delta"),
    # questions
    ("question without title", bad("question", {"text": "x"}), "body.title"),
    ("question title too long", bad("question", {"title": "x" * 257}), "body.title"),
    ("question text too long", bad("question", {"title": "x", "text": "x" * 32769}), "body.text"),
    ("question tags too many", bad("question", {"title": "x", "tags": ["a"] * 17}), "body.tags"),
    ("question tag too long", bad("question", {"title": "x", "tags": ["a" * 33]}), "body.tags[0]"),
    ("question meeting ref", bad("question", {"title": "x"}, M), "refs.meeting"),
    ("answer without text", bad("answer", {}, Q), "body.text"),
    ("answer text blank", bad("answer", {"text": " "}, Q), "body.text"),
    ("answer target ref", bad("answer", {"text": "x"}, T), "refs.target"),
    ("resolved note too long", bad("resolved", {"note": "x" * 513}, Q), "body.note"),
    ("resolved meeting ref", bad("resolved", {}, {**Q, "meeting": ID}), "refs.meeting"),
    # edit and delete are core kinds: test_kinds_core.py
    # two broken rules: the first in the table's order wins (protocol.md 2.1)
    (
        "agenda activity before plusdelta",
        agenda(activity={}, plusdelta=5),
        "body.agenda.activity.title",
    ),
    (
        "agenda coursework before activity",
        agenda(coursework=5, activity={}),
        "body.agenda.coursework",
    ),
    ("meeting starts_at before agenda", bad("meeting", {"agenda": 5}), "body.starts_at"),
    ("circle rhythm before language", circle(rhythm={"weeks": 0}, language=5), "body.rhythm.weeks"),
    (
        "every link is a map before any is read",
        circle(resources=[{"url": 5}, 5]),
        "body.resources[1]",
    ),
    (
        "check-in fields before the rule across them",
        bad("checkin", {"feeling": 5}, M),
        "body.feeling",
    ),
    ("cadence nil is the default", rhythm(cadence=None, weeks=0), "body.rhythm.weeks"),
]


@pytest.mark.parametrize(("label", "raw", "field"), BAD, ids=[case[0] for case in BAD])
def test_bad_field_is_rejected_by_name(label: str, raw: bytes, field: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode_event(raw)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


@pytest.mark.parametrize(("label", "raw", "field"), BAD[::7], ids=[case[0] for case in BAD[::7]])
def test_creating_the_same_is_a_local_error(label: str, raw: bytes, field: str) -> None:
    import msgpack

    fields = msgpack.unpackb(raw[64:], raw=False)
    with pytest.raises(LocalProtocolError, match=f"^{re.escape(field)}: "):
        create_event(
            KEY, kind=fields[3], circle=fields[4], refs=fields[5], body=fields[6], created_at=1
        )


def test_limits_at_the_edge_are_accepted() -> None:
    ok = [
        bad("circle", {"name": "é" * 64, "resources": [LINK] * 64, "language": "x" * 35}),
        bad("circle", {**C, "rhythm": {"duration_minutes": 1440, "weeks": 520}}),
        bad("resource", {**R, "tags": ["t" * 32] * 16}),
        bad("meeting", {**S, "agenda": {"activity": {"title": "q", "minutes": 180}}}),
        bad("meeting", {**S, "agenda": {"activity": {"title": "q", "minutes": 1}}}),
        bad("checkin", {"feeling": "x" * 1024}, M),
    ]
    for raw in ok:
        decode_event(raw)


# -- vectors ------------------------------------------------------------------------------


def generator() -> ModuleType:
    path = ROOT / "scripts" / "make_circle_vectors.py"
    spec = importlib.util.spec_from_file_location("make_circle_vectors", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vectors_file_is_what_the_generator_makes() -> None:
    text = (ROOT / "docs" / "vectors" / "circles.json").read_text()
    assert text == generator().render(), "run scripts/make_circle_vectors.py"


def test_vectors_decode_and_cover_every_kind() -> None:
    document = json.loads((ROOT / "docs" / "vectors" / "circles.json").read_text())
    key = SigningKey.from_seed(bytes.fromhex(document["seed"]))
    assert key.public_key.hex() == document["public_key"]
    seen = set()
    for vector in document["valid"]:
        event = decode_event(bytes.fromhex(vector["raw"]))
        assert event.id.hex() == vector["id"]
        assert event.kind == vector["kind"] == k(vector["name"])
        assert event.circle == document["circle"]
        seen.add(event.kind)
    assert seen == set(kinds.CIRCLE_KINDS)
    for vector in document["invalid"]:
        with pytest.raises(InvalidEvent) as info:
            decode_event(bytes.fromhex(vector["raw"]))
        assert info.value.field == vector["field"], vector["name"]


def test_vector_ids_are_in_the_spec() -> None:
    document = json.loads((ROOT / "docs" / "vectors" / "circles.json").read_text())
    spec = (ROOT / "docs" / "protocol-circles.md").read_text()
    for vector in document["valid"]:
        assert f"| {vector['name']} | `{vector['id']}` |" in spec
    for vector in document["invalid"]:
        assert f"(`{vector['field']}`)" in spec
