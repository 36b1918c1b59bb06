"""Admission by relationship, as a pure budget: what strangers may make a node store a day."""

from __future__ import annotations

from peernode.admission import DAY_MS, AdmissionConfig, StrangerBudget, sort_batch
from protocol import kinds
from protocol.event import Event, create_event
from protocol.identity import SigningKey

NOON = 20_000 * DAY_MS + DAY_MS // 2
PEER = b"p" * 32
OTHER_PEER = b"q" * 32


def notes(key: SigningKey, count: int, *, text: str = "hello", start: int = NOON) -> list[Event]:
    return [
        create_event(
            key, kind=kinds.NOTE, circle="lobby", body={"text": text}, created_at=start + i
        )
        for i in range(count)
    ]


def profile(key: SigningKey, name: str, at: int = NOON) -> Event:
    return create_event(key, kind=kinds.PROFILE, circle="", body={"name": name}, created_at=at)


def admitted(budget: StrangerBudget, events: list[Event], sender: bytes = PEER) -> int:
    return sum(budget.admit(event, sender, NOON) for event in events)


def test_a_stranger_gets_its_daily_events_and_no_more() -> None:
    budget = StrangerBudget(AdmissionConfig(per_author_events=5))
    stranger = SigningKey.generate()

    assert admitted(budget, notes(stranger, 8)) == 5
    assert admitted(budget, notes(SigningKey.generate(), 3)) == 3  # another author has its own
    assert budget.spent()[0] == 8


def test_bytes_count_as_well_as_events() -> None:
    big = notes(SigningKey.generate(), 4, text="x" * 400)
    budget = StrangerBudget(AdmissionConfig(per_author_bytes=2 * len(big[0].raw) + 10))

    assert admitted(budget, big) == 2  # the third would go over the bytes


def test_one_peer_cannot_bring_more_than_its_share_of_strangers() -> None:
    budget = StrangerBudget(AdmissionConfig(per_author_events=10, per_peer_events=15))
    authors = [notes(SigningKey.generate(), 10) for _ in range(3)]

    assert sum(admitted(budget, events) for events in authors) == 15
    assert admitted(budget, notes(SigningKey.generate(), 10), OTHER_PEER) == 10


def test_all_strangers_together_stay_within_the_total() -> None:
    budget = StrangerBudget(AdmissionConfig(per_author_events=10, total_events=25))
    peers = [bytes([n]) * 32 for n in range(5)]

    stored = sum(admitted(budget, notes(SigningKey.generate(), 10), peer) for peer in peers)

    assert stored == 25
    assert budget.spent()[0] == 25


def test_a_stranger_still_gets_a_name_after_spending_its_budget() -> None:
    budget = StrangerBudget(AdmissionConfig(per_author_events=2, profiles_per_author=1))
    stranger = SigningKey.generate()
    admitted(budget, notes(stranger, 5))

    assert budget.admit(profile(stranger, "Zoe"), PEER, NOON)
    assert not budget.admit(profile(stranger, "Zoe 2", NOON + 1), PEER, NOON)


def test_the_budget_starts_afresh_the_next_day() -> None:
    budget = StrangerBudget(AdmissionConfig(per_author_events=3))
    stranger = SigningKey.generate()
    assert admitted(budget, notes(stranger, 5)) == 3

    tomorrow = notes(stranger, 5, start=NOON + DAY_MS)
    assert sum(budget.admit(event, PEER, NOON + DAY_MS) for event in tomorrow) == 3


def test_familiar_authors_pass_unbudgeted_and_blocked_ones_never() -> None:
    budget = StrangerBudget(AdmissionConfig(per_author_events=2))
    friend, stranger, blocked = (SigningKey.generate() for _ in range(3))
    batch = notes(friend, 10) + notes(stranger, 10) + notes(blocked, 10)

    result = sort_batch(
        batch,
        sender=PEER,
        familiar=lambda key: key in {friend.public_key, blocked.public_key},
        blocked=lambda key: key == blocked.public_key,
        budget=budget,
        now_ms=NOON,
    )

    authors = [event.author for event in result.store]
    assert authors.count(friend.public_key) == 10
    assert authors.count(stranger.public_key) == 2
    assert blocked.public_key not in authors
    assert len(result.declined) == 18
    assert result.store == [event for event in batch if event in result.store]  # order kept


def test_profiles_are_judged_first_in_a_batch() -> None:
    budget = StrangerBudget(AdmissionConfig(per_peer_events=3))
    stranger = SigningKey.generate()
    named = profile(stranger, "Zoe")

    result = sort_batch(
        [*notes(stranger, 5), named],
        sender=PEER,
        familiar=lambda key: False,
        blocked=lambda key: False,
        budget=budget,
        now_ms=NOON,
    )

    assert named in result.store
    assert len(result.store) == 3


def test_the_days_total_survives_a_save_and_restore() -> None:
    config = AdmissionConfig(total_events=10)
    before = StrangerBudget(config)
    admitted(before, notes(SigningKey.generate(), 6))
    after, tomorrow = StrangerBudget(config), StrangerBudget(config)

    after.restore(before.save(), NOON)
    tomorrow.restore(before.save(), NOON + DAY_MS)
    after.restore("not a saved total", NOON)  # ignored

    assert after.spent() == before.spent()
    assert admitted(after, notes(SigningKey.generate(), 10)) == 4
    assert tomorrow.spent() == (0, 0)
