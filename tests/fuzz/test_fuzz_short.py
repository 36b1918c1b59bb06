"""The short version of the fuzzing campaign (docs/fuzzing.md): every network decoder.

Per target: its seeds, then a few thousand inputs from our seeded mutator (deterministic),
then hypothesis' bytes and, for the msgpack decoders, structured values. No atheris needed.
Any exception but the decoder's documented error, an input over 1 s of CPU, or a peak
allocation over 8 MiB above the baseline fails the test with the input saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz import corpus, targets
from fuzz.bombs import bombs_for, measure_cases
from fuzz.harness import Finding, Limits, alarm_handler, run_one, traced_memory
from fuzz.mutator import Mutator
from protocol import codec, kinds, wire

LIMITS = Limits(seconds=1.0, memory_bytes=8 * 1024 * 1024)
SEED = 20_240_601
# Inputs per target: a few thousand, fewer for the targets that do public-key work per input.
RUNS = {name: 1500 for name in targets.TARGETS} | {
    "handshake_payload": 800,
    "frame": 800,
    "reconcile": 500,
}
SHORT_MAX_LEN = 16 * 1024  # big inputs are the bombs' job; here, many small ones


@pytest.fixture(autouse=True, scope="module")
def _discovery_loop() -> Iterator[None]:
    yield
    targets.close_loop()


def _check(name: str, data: bytes, tmp_path: Path) -> Any:
    try:
        return run_one(targets.TARGETS[name], data, LIMITS, alarm=True)
    except Finding as finding:
        saved = finding.save(tmp_path)
        pytest.fail(
            f"{finding}\n(input saved to {saved}; replay: python -m fuzz.run "
            f"--replay {saved} --targets {name})\n{finding.trace}"
        )


@pytest.mark.parametrize("name", sorted(targets.TARGETS))
def test_mutated_inputs(name: str, tmp_path: Path) -> None:
    target = targets.TARGETS[name]
    seeds = corpus.seeds(name)
    mutator = Mutator(seeds, seed=SEED, max_len=min(target.max_len, SHORT_MAX_LEN))
    if name == "reconcile":
        mutator.max_len = 8 * 1024  # each message costs a walk of our index
    outcomes: dict[str, int] = {}
    with traced_memory(), alarm_handler():
        for i in range(RUNS[name]):
            data = seeds[i] if i < len(seeds) else mutator.generate()
            outcome = _check(name, data, tmp_path)
            mutator.feedback(data, outcome.result, outcome.detail)
            outcomes[outcome.result] = outcomes.get(outcome.result, 0) + 1
    # The mutations must reach more than one outcome, or the target tests nothing.
    assert len(mutator.seen) >= 2, outcomes


def test_every_seed_is_accepted() -> None:
    """Seeds are valid messages (the event vectors' invalid ones apart)."""
    invalid_vectors = sum(1 for _, valid in corpus._vector_raws() if not valid)
    for name, items in corpus.all_seeds().items():
        target = targets.TARGETS[name]
        rejected = []
        for data in items:
            try:
                target.func(data)
            except target.allowed as exc:
                rejected.append(exc)
        allowed = {"event": invalid_vectors, "handshake_msg1": 2, "handshake_msg2": 5}
        assert len(rejected) <= allowed.get(name, 0), (name, rejected)
    targets.close_loop()


@pytest.mark.parametrize("name", sorted(targets.TARGETS))
def test_bombs_stay_within_the_bounds(name: str) -> None:
    cases = [(name, label, data) for label, data in bombs_for(name)]
    if name in ("event", "event_signed"):
        # The same unpack as the codec target's, which fills the limit: the short version
        # keeps only the bombs that end elsewhere in decode_event.
        cases = [case for case in cases if "filling" not in case[1]]
    results = measure_cases(cases, LIMITS)
    over = [r for r in results if not r.within]
    assert not over, over
    targets.close_loop()


# -- hypothesis: raw bytes for every target, structured msgpack for the msgpack ones ---------

HYPOTHESIS = settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats()
    | st.text(max_size=40)
    | st.binary(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)


@pytest.mark.parametrize("name", sorted(targets.TARGETS))
@HYPOTHESIS
@given(data=st.binary(max_size=1200))
def test_arbitrary_bytes(name: str, data: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    with traced_memory():
        _check(name, data, tmp_path_factory.mktemp("finding"))


@HYPOTHESIS
@given(value=plain)
def test_structured_msgpack(value: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    data = codec.pack(value)
    for name in ("codec", "wire", "event_signed"):
        _check(name, data, tmp_path_factory.mktemp("finding"))


message_type = st.sampled_from([int(t) for t in wire.MessageType]) | st.integers(-2, 300)


@HYPOTHESIS
@given(code=message_type, fields=st.lists(plain, max_size=4))
def test_structured_wire_messages(
    code: int, fields: list[Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    _check("wire", codec.pack([code, *fields]), tmp_path_factory.mktemp("finding"))


kind = st.sampled_from([spec.name for spec in kinds.known_kinds()]) | st.just("x.org/y@1")


@HYPOTHESIS
@given(
    kind=kind,
    circle=st.sampled_from(["", "lobby", "Bad Circle"]),
    refs=st.dictionaries(
        st.sampled_from(["reply_to", "edit_of", "target", "x"]), plain, max_size=3
    ),
    body=st.dictionaries(st.text(max_size=12), plain, max_size=6),
    created_at=st.integers(-1, 2**64 - 1),
)
def test_signed_events_of_every_kind(
    kind: str,
    circle: str,
    refs: dict[str, Any],
    body: dict[str, Any],
    created_at: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    content = codec.pack([1, targets.FUZZ_AUTHOR.public_key, created_at, kind, circle, refs, body])
    _check("event_signed", content, tmp_path_factory.mktemp("finding"))
