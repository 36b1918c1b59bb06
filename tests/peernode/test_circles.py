"""Circle state from events (pure), and the Node's circle methods on real homes."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from peernode.circles.derive import derive_state
from peernode.circles.model import Activity, Agenda, ResourceLink, Rhythm, words
from peernode.circles.queries import suggest_facilitators, who_can_help
from peernode.circles.text import activity_text
from peernode.errors import BadInput
from peernode.home import Home
from peernode.node import Node, NodeConfig
from peernode.storage.store import Store
from peernode.views import Profile
from protocol import kinds
from protocol.event import Event, create_event, decode_event
from protocol.identity import SigningKey

ANA = SigningKey.from_seed(b"\x01" * 32)
BEN = SigningKey.from_seed(b"\x02" * 32)
CAT = SigningKey.from_seed(b"\x03" * 32)
DAN = SigningKey.from_seed(b"\x04" * 32)
A, B, C, D = (key.public_key for key in (ANA, BEN, CAT, DAN))
HOUR = 3_600_000
VECTORS = Path(__file__).resolve().parents[2] / "docs" / "vectors" / "circles.json"


def ev(
    key: SigningKey,
    kind: str,
    body: dict[str, Any] | None = None,
    refs: dict[str, bytes] | None = None,
    at: int = 0,
    circle: str = "sql",
) -> Event:
    return create_event(key, kind=kind, circle=circle, body=body or {}, refs=refs, created_at=at)


def start(at: int = 0, name: str = "SQL", key: SigningKey = ANA, **body: Any) -> Event:
    return ev(key, kinds.CIRCLE, {"name": name, **body}, at=at)


def meeting(key: SigningKey, starts_at: int, at: int = 1, **body: Any) -> Event:
    return ev(key, kinds.MEETING, {"starts_at": starts_at, **body}, at=at)


# -- description and membership -----------------------------------------------------------


def test_description_history_and_current_version() -> None:
    first = start(10, topic="databases", rhythm={"cadence": "weekly", "weeks": 6})
    second = ev(BEN, kinds.CIRCLE, {"name": "SQL together"}, {"updates": first.id}, at=20)
    other = ev(ANA, kinds.CIRCLE, {"name": "x"}, circle="x")
    state = derive_state("sql", [second, other, first])
    assert [version.id for version in state.history] == [first.id, second.id]
    assert state.title == "SQL together"
    assert state.topic == ""  # the newest version decides, whole
    assert state.history[0].rhythm == Rhythm("weekly", None, 6)
    assert state.history[1].updates == first.id
    assert state.creator == A
    assert state.created_at == 10
    assert derive_state("nothing", [first]).exists is False
    assert derive_state("nothing", []).title == "nothing"


def test_newest_version_wins_ties_by_id() -> None:
    one = start(10, name="One")
    two = start(10, name="Two", key=BEN)
    newest = max(one, two, key=lambda event: event.id)
    assert derive_state("sql", [one, two]).title == newest.body["name"]


def test_membership_is_joined_minus_left_by_latest() -> None:
    events = [
        start(0),
        ev(BEN, kinds.JOIN, {"message": "hi"}, at=1),
        ev(CAT, kinds.JOIN, at=2),
        ev(CAT, kinds.LEAVE, at=3),
        ev(DAN, kinds.LEAVE, at=4),
        ev(BEN, kinds.LEAVE, at=5),
        ev(BEN, kinds.JOIN, {"message": "back"}, at=6),
    ]
    state = derive_state("sql", events)
    assert [(m.key, m.since, m.message) for m in state.members] == [(A, 0, ""), (B, 6, "back")]
    assert state.is_member(B)
    assert not state.is_member(C)
    assert not state.is_member(D)
    creator_left = derive_state("sql", [*events, ev(ANA, kinds.LEAVE, at=9)])
    assert [m.key for m in creator_left.members] == [B]


def test_a_backdated_creation_by_someone_else_does_not_drop_the_creator() -> None:
    """Ben claims to have created Ana's circle before her: her version, the newest, stays
    current and she stays its creator; Ben counts as a member, like anyone who created
    a version."""
    mine = start(100)
    backdated = start(0, name="Mine now", key=BEN)
    state = derive_state("sql", [mine, backdated])
    assert state.creator == A
    assert state.created_at == 100
    assert state.title == "SQL"
    assert {m.key for m in state.members} == {A, B}
    assert [
        m.key for m in derive_state("sql", [mine, backdated, ev(ANA, kinds.LEAVE, at=200)]).members
    ] == [B]
    # An update (refs `updates`) is not a creation: its author joins only by joining.
    update = ev(CAT, kinds.CIRCLE, {"name": "SQL!"}, {"updates": mine.id}, at=150)
    assert not derive_state("sql", [mine, update]).is_member(C)
    assert derive_state("sql", [mine, update, backdated]).creator == A


LAST_MS = 2**53 - 1
"""The latest created_at the protocol allows."""


def test_a_version_from_the_far_future_does_not_lock_the_circle() -> None:
    """A version that updates another supersedes it whatever the times claim: a stranger's
    version dated at the end of time is current only until a member updates it."""
    mine = start(100, description="Joins and indexes")
    future = ev(DAN, kinds.CIRCLE, {"name": "Spam"}, {"updates": mine.id}, at=LAST_MS)
    assert derive_state("sql", [mine, future]).title == "Spam"
    fixed = ev(ANA, kinds.CIRCLE, {"name": "SQL"}, {"updates": future.id}, at=200)
    state = derive_state("sql", [future, fixed, mine])
    assert state.title == "SQL"
    assert state.current is not None
    assert state.current.id == fixed.id
    assert state.creator == A
    # The history still lists every version by claimed time.
    assert [version.id for version in state.history] == [mine.id, fixed.id, future.id]


def test_the_published_version_vectors() -> None:
    """docs/vectors/circles.json, "versions": the current version and the creator of each
    set of versions, as docs/protocol-circles.md rule 3 says."""
    document = json.loads(VECTORS.read_text())["versions"]
    events = {item["name"]: decode_event(bytes.fromhex(item["raw"])) for item in document["events"]}
    for scenario in document["scenarios"]:
        state = derive_state("sql-basics", [events[name] for name in scenario["events"]])
        assert state.current is not None
        assert state.current.id == events[scenario["current"]].id, scenario
        assert state.creator == bytes.fromhex(scenario["creator"]), scenario


def test_two_edits_at_once_make_two_heads_and_the_next_edit_joins_them() -> None:
    mine = start(100)
    ben = ev(BEN, kinds.CIRCLE, {"name": "Ben's"}, {"updates": mine.id}, at=300)
    cat = ev(CAT, kinds.CIRCLE, {"name": "Cat's"}, {"updates": mine.id}, at=200)
    assert derive_state("sql", [mine, ben, cat]).title == "Ben's"  # the newer head
    after_cat = ev(ANA, kinds.CIRCLE, {"name": "Merged"}, {"updates": cat.id}, at=250)
    # Ana's edit supersedes Cat's only; Ben's head (300) is newer than hers (250).
    assert derive_state("sql", [mine, ben, cat, after_cat]).title == "Ben's"
    after_ben = ev(ANA, kinds.CIRCLE, {"name": "Merged"}, {"updates": ben.id}, at=260)
    assert derive_state("sql", [mine, ben, cat, after_cat, after_ben]).title == "Merged"
    # A deleted version no longer supersedes: what it replaced is a head again.
    gone = ev(ANA, kinds.DELETE, refs={"target": after_ben.id}, at=270)
    assert derive_state("sql", [mine, ben, cat, after_cat, after_ben, gone]).title == "Ben's"


def test_order_of_arrival_does_not_matter() -> None:
    events = fixture_events()
    shuffled = events[:]
    random.Random(7).shuffle(shuffled)
    assert derive_state("sql", shuffled) == derive_state("sql", events)


# -- meetings -----------------------------------------------------------------------------


def test_meetings_sorted_with_next_and_what_members_signed() -> None:
    later = meeting(BEN, 10 * HOUR, facilitator=C, agenda={"activity": {"title": "Quiz"}})
    sooner = meeting(ANA, 2 * HOUR, duration_minutes=60, place="Library")
    m = {"meeting": sooner.id}
    events = [
        start(),
        later,
        sooner,
        ev(BEN, kinds.RSVP, {"answer": "yes"}, m, at=2),
        ev(BEN, kinds.RSVP, {"answer": "no"}, m, at=3),
        ev(CAT, kinds.RSVP, {"answer": "maybe"}, m, at=2),
        ev(BEN, kinds.ATTENDANCE, refs=m, at=4),
        ev(BEN, kinds.ATTENDANCE, refs=m, at=5),
        ev(ANA, kinds.ATTENDANCE, refs=m, at=6),
        ev(BEN, kinds.CHECKIN, {"need_help": "joins"}, m, at=7),
        ev(ANA, kinds.PLUSDELTA, {"plus": "quiz", "delta": "time"}, m, at=8),
        ev(CAT, kinds.RSVP, {"answer": "yes"}, {"meeting": b"\x09" * 32}, at=9),
    ]
    state = derive_state("sql", events)
    first, second = state.meetings
    assert (first.id, second.id) == (sooner.id, later.id)
    assert first.rsvp_of(B) == "no"
    assert first.rsvp_of(C) == "maybe"
    assert first.rsvp_of(A) is None
    assert first.attendees == (B, A)
    assert [c.need_help for c in first.checkins] == ["joins"]
    assert [(p.plus, p.delta) for p in first.plusdeltas] == [("quiz", "time")]
    assert (first.place, first.duration_minutes, first.ends_at) == ("Library", 60, 3 * HOUR)
    assert second.duration_minutes == 120
    assert second.facilitator == C
    assert second.agenda.activity == Activity("Quiz", None)
    assert activity_text(second.agenda.activity) == "Quiz (15–20 min)"
    assert second.rsvps == ()
    assert second.attendees == ()
    assert state.next_meeting(0) == first
    assert state.next_meeting(2 * HOUR + 1) == first  # still running
    assert state.next_meeting(3 * HOUR) == second
    assert state.next_meeting(12 * HOUR + 1) is None
    assert first.held(2 * HOUR)
    assert not first.held(2 * HOUR - 1)
    assert not second.held(100 * HOUR)


def test_facilitator_rotation_suggests_who_has_not_facilitated() -> None:
    events = [
        start(0),
        ev(BEN, kinds.JOIN, at=1),
        ev(CAT, kinds.JOIN, at=2),
        ev(DAN, kinds.JOIN, at=3),
    ]
    assert suggest_facilitators(derive_state("sql", events)) == [A, B, C, D]
    events += [
        meeting(ANA, 100, at=5, facilitator=C),
        meeting(ANA, 200, at=6, facilitator=A),
        meeting(ANA, 300, at=7),
    ]
    assert suggest_facilitators(derive_state("sql", events)) == [B, D, C, A]
    events.append(ev(BEN, kinds.LEAVE, at=8))
    assert suggest_facilitators(derive_state("sql", events)) == [D, C, A]


# -- edits and deletes --------------------------------------------------------------------


def test_edits_count_only_by_the_author_and_only_when_valid() -> None:
    question = ev(ANA, kinds.QUESTION, {"title": "Old", "text": "body", "tags": ["sql"]}, at=1)
    t = {"target": question.id}
    events = [
        question,
        ev(ANA, kinds.EDIT, {"title": "New"}, t, at=2),
        ev(BEN, kinds.EDIT, {"title": "Hijacked"}, t, at=3),
        ev(ANA, kinds.EDIT, {"title": ""}, t, at=4),  # would be invalid: ignored
        ev(ANA, kinds.EDIT, {"text": None}, t, at=5),  # nil removes
    ]
    state = derive_state("sql", events)
    (edited,) = state.questions
    assert (edited.title, edited.text, edited.tags) == ("New", "", ("sql",))
    assert state.bodies[question.id] == {"title": "New", "tags": ["sql"]}
    join = ev(BEN, kinds.JOIN, at=6)
    not_editable = ev(BEN, kinds.EDIT, {"message": "x"}, {"target": join.id}, at=7)
    assert join.id not in derive_state("sql", [start(), join, not_editable]).bodies


def test_deletes_count_only_by_the_author_and_remove_everywhere() -> None:
    question = ev(ANA, kinds.QUESTION, {"title": "Q"}, at=1)
    answer = ev(BEN, kinds.ANSWER, {"text": "A"}, {"question": question.id}, at=2)
    gathering = meeting(ANA, 100, at=3)
    rsvp = ev(BEN, kinds.RSVP, {"answer": "yes"}, {"meeting": gathering.id}, at=4)
    note = ev(CAT, kinds.NOTE, {"text": "hello"}, at=5)
    edit = ev(ANA, kinds.EDIT, {"title": "Q2"}, {"target": question.id}, at=6)
    base = [start(), question, answer, gathering, rsvp, note, edit]

    by_others = [
        ev(BEN, kinds.DELETE, refs={"target": question.id}, at=7),
        ev(ANA, kinds.DELETE, refs={"target": note.id}, at=7),
    ]
    state = derive_state("sql", base + by_others)
    assert state.deleted == frozenset()
    assert state.questions[0].title == "Q2"

    delete_answer = ev(BEN, kinds.DELETE, {"reason": "wrong"}, {"target": answer.id}, at=8)
    state = derive_state("sql", [*base, delete_answer])
    assert state.questions[0].answers == ()
    assert state.deleted == {answer.id}

    delete_edit = ev(ANA, kinds.DELETE, refs={"target": edit.id}, at=8)
    assert derive_state("sql", [*base, delete_edit]).questions[0].title == "Q"

    owned = [
        ev(ANA, kinds.DELETE, refs={"target": question.id}, at=8),
        ev(ANA, kinds.DELETE, refs={"target": gathering.id}, at=8),
        ev(CAT, kinds.DELETE, refs={"target": note.id}, at=8),
    ]
    state = derive_state("sql", base + owned)
    assert state.questions == ()
    assert state.meetings == ()
    assert state.deleted == {question.id, gathering.id, note.id}

    tombstone = owned[0]
    undelete = ev(ANA, kinds.DELETE, refs={"target": tombstone.id}, at=9)
    assert derive_state("sql", [*base, tombstone, undelete]).questions == ()


def test_a_delete_that_arrives_first_hides_the_target_when_it_comes() -> None:
    question = ev(ANA, kinds.QUESTION, {"title": "Q"}, at=1)
    delete = ev(ANA, kinds.DELETE, refs={"target": question.id}, at=2)
    assert derive_state("sql", [start(), delete]).deleted == frozenset()
    assert derive_state("sql", [start(), delete, question]).questions == ()


# -- questions ----------------------------------------------------------------------------


def test_question_lifecycle() -> None:
    question = ev(ANA, kinds.QUESTION, {"title": "Joins?", "tags": ["SQL Joins"]}, at=10)
    q = {"question": question.id}
    own = ev(ANA, kinds.ANSWER, {"text": "maybe this?"}, q, at=20)
    other = ev(BEN, kinds.ANSWER, {"text": "use LEFT"}, q, at=30)
    stranger = ev(CAT, kinds.QUESTION, {"title": "Else"}, at=5)
    foreign = ev(CAT, kinds.ANSWER, {"text": "x"}, {"question": stranger.id}, at=6)

    def status(*events: Event) -> str:
        return derive_state("sql", [question, *events]).questions[0].status

    assert status() == "open"
    assert status(own) == "open"
    assert status(own, other) == "answered"
    assert status(other, ev(BEN, kinds.RESOLVED, refs=q, at=40)) == "answered"
    resolved = ev(ANA, kinds.RESOLVED, refs={**q, "answer": other.id}, at=40)
    state = derive_state("sql", [question, own, other, resolved, stranger, foreign])
    done = state.question(question.id)
    assert done is not None
    assert done.status == "resolved"
    assert (done.resolved_at, done.helped) == (40, other.id)
    assert done.first_answer == done.answers[1]
    assert [q.id for q in state.questions_with("open")] == [stranger.id]  # only the asker answered
    wrong = ev(ANA, kinds.RESOLVED, refs={**q, "answer": foreign.id}, at=50)
    assert derive_state("sql", [question, other, foreign, wrong]).questions[0].helped is None


def test_who_can_help_by_profile_words_and_by_answers_never_the_asker() -> None:
    question = ev(ANA, kinds.QUESTION, {"title": "?", "tags": ["python"]}, at=1)
    q = {"question": question.id}
    events = [
        start(),
        ev(BEN, kinds.JOIN, at=1),
        question,
        ev(CAT, kinds.ANSWER, {"text": "x"}, q, at=2),
        ev(CAT, kinds.ANSWER, {"text": "y"}, q, at=3),
        ev(ANA, kinds.ANSWER, {"text": "self"}, q, at=4),
    ]
    state = derive_state("sql", events)
    profiles = [
        Profile(A, "Ana", can_help="Pythonic tricks"),
        Profile(B, "Ben", can_help="python, SQL joins"),
        Profile(D, "Dan", can_help="PYTHON!"),
    ]
    found = who_can_help(state, "Python", profiles, asker=A)
    assert [(h.name, h.member, h.profile_match, h.answers) for h in found] == [
        ("Ben", True, True, 0),
        (Profile.unnamed(C).name, False, False, 1),
        ("Dan", False, True, 0),
    ]
    # words begin words: 'Pythonic tricks' counts for python, unless Ana is the one asking
    cat = Profile.unnamed(C).name
    assert [h.name for h in who_can_help(state, "pyth", profiles)] == ["Ana", "Ben", cat, "Dan"]
    assert [h.name for h in who_can_help(state, "pyth", profiles, asker=B)] == ["Ana", cat, "Dan"]
    assert [h.name for h in who_can_help(state, "sql JOINS", profiles)] == ["Ben"]
    assert [h.name for h in who_can_help(state, "join sql", profiles)] == ["Ben"]
    assert who_can_help(state, "sql server", profiles) == []
    assert who_can_help(state, "  ", profiles) == []


def test_words() -> None:
    assert words("C++ and e-mail, don't!") == ["c++", "and", "e-mail", "don't"]


# -- through the node ---------------------------------------------------------------------


@pytest.fixture
async def ana(tmp_path: Path) -> AsyncIterator[Node]:
    async with Node(Home(tmp_path / "ana"), NodeConfig(watch=False)) as node:
        await node.create_identity("Ana", can_help="SQL")
        yield node


@pytest.fixture
async def ben(tmp_path: Path) -> AsyncIterator[Node]:
    async with Node(Home(tmp_path / "ben"), NodeConfig(watch=False)) as node:
        await node.create_identity("Ben", can_help="python")
        yield node


async def sync(source: Node, target: Node) -> None:
    """What gossip does, without the network: hand over every event."""
    raws = [raw for _, raw in await source.time_index()]
    await target.ingest(await source.raw_events(raws))


async def test_node_publishers_and_state(ana: Node) -> None:
    await ana.circles.create(
        "sql",
        name="SQL basics",
        topic="databases",
        resources=[ResourceLink("https://e.org/c", "Course", "CC-BY-4.0")],
        rhythm=Rhythm("weekly", 120, 6),
        language="en",
    )
    with pytest.raises(BadInput, match="exists already"):
        await ana.circles.create("sql", name="Again")
    with pytest.raises(BadInput, match="already a member"):
        await ana.circles.join("sql")
    first = await ana.circles.schedule_meeting(
        "sql",
        starts_at=1_000,
        agenda=Agenda(activity=Activity("Quiz", 20)),
        facilitator=ana.public_key,
    )
    second = await ana.circles.schedule_meeting("sql", starts_at=5_000, place="Library")
    between = await ana.circles.schedule_meeting("sql", starts_at=3_000)
    assert "previous" not in first.refs
    assert second.refs["previous"] == first.id
    assert between.refs["previous"] == first.id
    await ana.circles.rsvp(first.id, "yes")
    await ana.circles.rsvp(first.id.hex()[:8], "no")
    await ana.circles.attend(first.id.hex())
    await ana.circles.check_in(first.id, need_help="outer joins", feeling="")
    await ana.circles.plus_delta(first.id, plus="quiz")
    question = await ana.circles.ask("sql", "Which join?", tags=["joins"])
    answer = await ana.circles.answer(question.id, "LEFT")
    await ana.circles.resolve(question.id, answer.id)
    await ana.circles.add_resource("sql", "https://e.org/x", "X", tags=("a",), licence="CC0")
    await ana.circles.update("sql", topic="", language="fr")

    state = await ana.circles.state("sql")
    assert (state.title, state.topic, state.language) == ("SQL basics", "", "fr")
    assert state.resources == (ResourceLink("https://e.org/c", "Course", "CC-BY-4.0"),)
    assert state.history[-1].updates == state.history[0].id
    met = state.meeting(first.id)
    assert met is not None
    assert (met.rsvp_of(ana.public_key), met.attendees) == ("no", (ana.public_key,))
    assert met.agenda.activity == Activity("Quiz", 20)
    assert met.facilitator == ana.public_key
    assert [m.id for m in state.meetings] == [first.id, between.id, second.id]
    assert state.questions[0].status == "resolved"
    assert state.shared_resources[0].tags == ("a",)
    assert [s.slug for s in await ana.circles.known()] == ["sql"]
    assert (await ana.circles.known())[0].member
    assert await ana.circles.suggest_facilitators("sql") == [ana.public_key]  # has, but is alone

    await ana.circles.leave("sql")
    await ana.circles.join("sql", "back")  # same millisecond still orders after the leave
    await ana.circles.leave("sql")
    assert (await ana.circles.state("sql")).members == ()
    with pytest.raises(BadInput, match="not a member"):
        await ana.circles.leave("sql")


async def test_a_member_updates_a_circle_after_a_version_from_the_far_future(ana: Node) -> None:
    """Before the `updates` chain decided, `circle update` failed here: the new version had
    to claim a time after 2^53 - 1, which no event may."""
    first = await ana.circles.create("sql", name="SQL basics")
    future = ev(DAN, kinds.CIRCLE, {"name": "Spam"}, {"updates": first.id}, at=LAST_MS)
    await ana.ingest([future.raw])
    assert (await ana.circles.state("sql")).title == "Spam"
    fixed = await ana.circles.update("sql", name="SQL basics again")
    assert fixed.created_at < LAST_MS
    state = await ana.circles.state("sql")
    assert state.title == "SQL basics again"
    assert state.creator == ana.public_key


async def test_familiar_peers_are_the_remembered_and_my_circles_members(
    ana: Node, ben: Node
) -> None:
    """The network keeps link slots for these (protocol/gossip: set_familiar)."""
    await ana.circles.create("sql", name="SQL basics")
    await sync(ana, ben)
    await ben.circles.join("sql")
    await ben.circles.create("other", name="Not Ana's")
    await sync(ben, ana)
    assert await ana.familiar_keys() == {ben.public_key}
    await ana.remember_peer(C, "Cat", "10.0.0.3", 7420)
    assert await ana.familiar_keys() == {ben.public_key, C}
    assert await ben.familiar_keys() == {ana.public_key}  # from "sql"; "other" is Ben's alone
    await ben.circles.leave("sql")
    assert await ben.familiar_keys() == set()


async def test_node_errors_name_the_problem(ana: Node) -> None:
    with pytest.raises(BadInput, match="no circle nope"):
        await ana.circles.join("nope")
    with pytest.raises(BadInput, match="no circle nope"):
        await ana.circles.schedule_meeting("nope", starts_at=1)
    with pytest.raises(BadInput, match="A circle or channel name is lowercase letters"):
        await ana.circles.create("Bad Slug", name="x")
    await ana.circles.create("sql", name="SQL")
    with pytest.raises(BadInput, match="not an event id"):
        await ana.circles.rsvp("abc", "yes")
    with pytest.raises(BadInput, match="is not here"):
        await ana.circles.rsvp("00" * 32, "yes")
    question = await ana.circles.ask("sql", "Q?")
    with pytest.raises(
        BadInput, match="is the id of a question, not of a meeting: check which id you copied"
    ):
        await ana.circles.attend(question.id)
    with pytest.raises(BadInput, match=r"^Your answer must be one of: maybe, no, yes\.$"):
        await ana.circles.rsvp(
            (await ana.circles.schedule_meeting("sql", starts_at=1)).id, "perhaps"
        )
    with pytest.raises(BadInput, match=r"^Write at least one thing: how you feel or "):
        await ana.circles.check_in((await ana.circles.schedule_meeting("sql", starts_at=2)).id)
    with pytest.raises(BadInput, match=r"^The question's title is empty: write something\.$"):
        await ana.edit(question.id, {"title": " "})
    join = (await ana.circles.events("sql", [kinds.CIRCLE]))[0]
    with pytest.raises(
        BadInput,
        match=r"^A circle.s description cannot be edited: propose a new version with an update\.$",
    ):
        await ana.edit(join.id, {"name": "x"})
    tombstone = await ana.delete(question.id, "dup")
    with pytest.raises(BadInput, match="cannot be deleted"):
        await ana.delete(tombstone.id)


async def test_two_nodes_share_a_circle_and_only_authors_edit(ana: Node, ben: Node) -> None:
    await ana.circles.create("sql", name="SQL")
    question = await ana.circles.ask("sql", "Joins?", tags=["python"])
    note = await ana.post("hello", channel="sql")
    await sync(ana, ben)
    await ben.circles.join("sql", "hi")
    gathering = await ben.circles.schedule_meeting("sql", starts_at=1_000)
    answer = await ben.circles.answer(question.id, "like this")
    with pytest.raises(BadInput, match="only the person who asked"):
        await ben.circles.resolve(question.id)
    with pytest.raises(BadInput, match="your own events"):
        await ben.edit(question.id, {"title": "Mine now"})
    with pytest.raises(BadInput, match="your own events"):
        await ben.delete(note.id)
    other = await ben.circles.answer((await ben.circles.ask("sql", "Other?")).id, "x")
    await sync(ben, ana)
    with pytest.raises(
        BadInput,
        match=f"^{gathering.id.hex()[:12]} is the id of a meeting, not of an answer: check",
    ):
        await ana.circles.resolve(question.id, gathering.id.hex())
    with pytest.raises(BadInput, match="not an answer to this question"):
        await ana.circles.resolve(question.id, other.id)
    await ana.circles.resolve(question.id, answer.id)
    await ana.edit(question.id, {"title": "Joins, please?"})
    await ana.delete(note.id)
    await sync(ana, ben)

    state = await ben.circles.state("sql")
    assert [m.key for m in state.members] == [ana.public_key, ben.public_key]
    assert state.meetings[0].author == ben.public_key
    assert [(q.title, q.status) for q in state.questions] == [
        ("Joins, please?", "resolved"),
        ("Other?", "open"),
    ]
    assert state.deleted == {note.id}  # a note, read only because it was deleted
    helpers = await ben.circles.who_can_help("sql", "python")
    assert [h.name for h in helpers] == ["Ben"]
    assert (helpers[0].profile_match, helpers[0].answers) == (True, 1)
    assert await ben.circles.suggest_facilitators("sql") == [ana.public_key, ben.public_key]


def test_store_finds_ids_by_prefix(tmp_path: Path) -> None:
    store = Store(tmp_path / "db")
    try:
        events = [ev(ANA, kinds.NOTE, {"text": str(i)}, at=i) for i in range(40)]
        store.insert_events(events, 0)
        event = events[0]
        assert store.raw_by_id_prefix(event.id.hex()[:8]) == [event.raw]
        assert store.raw_by_id_prefix(event.id.hex()) == [event.raw]
        first_digits = [e.id.hex()[0] for e in events]
        shared = next(d for d in first_digits if first_digits.count(d) > 1)
        assert len(store.raw_by_id_prefix(shared)) == 2
        assert store.raw_by_id_prefix("f" * 64) == []
        assert len(store.channel_raw("sql")) == 40
        assert store.channel_raw("sql", [kinds.JOIN]) == []
    finally:
        store.close()


# -- a circle used by the tests above ------------------------------------------------------


def fixture_events() -> list[Event]:
    question = ev(ANA, kinds.QUESTION, {"title": "Q", "tags": ["x"]}, at=3)
    gathering = meeting(BEN, 100, at=4)
    return [
        start(),
        ev(BEN, kinds.JOIN, at=1),
        ev(CAT, kinds.JOIN, at=2),
        question,
        gathering,
        ev(BEN, kinds.ANSWER, {"text": "A"}, {"question": question.id}, at=5),
        ev(CAT, kinds.ATTENDANCE, refs={"meeting": gathering.id}, at=6),
        ev(BEN, kinds.ATTENDANCE, refs={"meeting": gathering.id}, at=6),
        ev(ANA, kinds.EDIT, {"title": "Q2"}, {"target": question.id}, at=7),
        ev(ANA, kinds.EDIT, {"title": "Q3"}, {"target": question.id}, at=7),
        ev(CAT, kinds.LEAVE, at=8),
        ev(BEN, kinds.RESOURCE, {"url": "https://e.org", "title": "E"}, at=9),
    ]
