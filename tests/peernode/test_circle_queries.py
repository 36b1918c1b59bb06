"""The tag search shared by `peernode questions --tag` and the Q&A screen, and how tags read."""

from __future__ import annotations

import pytest

from peernode.circles.derive import derive_state
from peernode.circles.queries import tags_match, words_match
from peernode.circles.text import question_status_line, tags_text
from protocol import kinds
from tests.peernode.test_circles import ANA, ev, start


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("group", True),  # the start of a tag with spaces
        ("GROUP BY", True),
        ("by", True),  # any of its words
        ("gro b", True),  # every word typed begins a word of a tag
        ("#group", True),  # as the tag is shown
        ('#"group by"', True),
        ("sql", True),  # another tag
        ("group sql", True),  # words of two tags
        ("join", False),
        ("group join", False),  # every word must be found
        ("roup", False),  # the start of a word, not the middle
        ("", False),
        ("#", False),
    ],
)
def test_tags_match_by_words_and_their_starts(search: str, found: bool) -> None:
    assert tags_match(("group by", "SQL"), search) is found


def test_words_match_keeps_words_whole() -> None:
    assert words_match("c++", ["C++ and Rust"])
    assert not words_match("c#", ["C++ and Rust"])
    assert words_match("e-mail", ["e-mail etiquette"])
    assert not words_match("anything", [])


def test_a_tag_with_spaces_reads_as_one_tag() -> None:
    assert tags_text(["joins", "group by", "c++"]) == '#joins #"group by" #c++'
    question = ev(ANA, kinds.QUESTION, {"title": "Why?", "tags": ["group by", "sql"]}, at=1)
    state = derive_state("sql", [start(), question])
    line = question_status_line(state.questions[0], lambda key: "Ana")
    assert line.endswith('  #"group by"  #sql')
