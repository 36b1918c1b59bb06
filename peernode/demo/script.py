"""What the demo room's simulated learners say: the circle's past and their small talk."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from peernode.circles.bodies import circle_body
from peernode.circles.model import Activity, Agenda, ResourceLink, Rhythm
from protocol import kinds

DEMO_CIRCLE: Final = "demo-study-circle"
"""The one circle demo peers write in; nothing of theirs goes anywhere else."""
DEMO_LABEL: Final = " (demo)"
"""Ends every demo learner's display name, so the room is never mistaken for real people."""

MINUTE: Final = 1
HOUR: Final = 60 * MINUTE
DAY: Final = 24 * HOUR


@dataclass(frozen=True, slots=True)
class Member:
    """A simulated learner's profile."""

    name: str
    learning: str
    can_help: str

    @property
    def display_name(self) -> str:
        return self.name + DEMO_LABEL


MEMBERS: Final = (
    Member("Amara", "pandas and plotting", "spreadsheets, statistics basics"),
    Member("Jonas", "Python basics", "Git, the command line"),
    Member("Mei", "cleaning messy data", "pandas, CSV files"),
    Member("Tomás", "charts that tell a story", "matplotlib"),
    Member("Kofi", "SQL and pandas together", "SQL"),
    Member("Lena", "Jupyter notebooks", "explaining things slowly"),
)


@dataclass(frozen=True, slots=True)
class Line:
    """One event of the circle's past, signed when the room opens.

    member: index into the room's members (modulo their number); minutes_ago:
    its date, before the room opens; refs: ref name -> label of an earlier line.
    A meeting's start is `starts_ago` minutes before the room opens, and its
    facilitator the member of that index."""

    label: str
    member: int
    kind: str
    body: Mapping[str, Any]
    minutes_ago: int
    refs: Mapping[str, str] = field(default_factory=dict)
    starts_ago: int | None = None
    facilitator: int | None = None


AMARA, JONAS, MEI, TOMAS = range(4)
"""The members who hold the circle (the others only chat)."""


def _note(label: str, member: int, text: str, minutes_ago: int, reply_to: str = "") -> Line:
    refs = {"reply_to": reply_to} if reply_to else {}
    return Line(label, member, kinds.NOTE, {"text": text}, minutes_ago, refs)


def _about(label: str, member: int, kind: str, body: Mapping[str, Any], minutes_ago: int) -> Line:
    """A line about last week's meeting (an rsvp, attendance, check-in, plus/delta)."""
    return Line(label, member, kind, body, minutes_ago, {"meeting": "last-week"})


CIRCLE_BODY: Final = circle_body(
    name="Python for data" + DEMO_LABEL,
    topic="Python and pandas for working with real data",
    description=(
        "A demo learning circle: the members are simulated on your own laptop and "
        "leave when you close peernode. Nothing of this circle leaves your laptop. "
        "We meet weekly for two hours: check-in, coursework, a short activity, "
        "then plus/delta."
    ),
    resources=(
        ResourceLink("https://www.py4e.com/", "Python for Everybody"),
        ResourceLink(
            "https://pandas.pydata.org/docs/getting_started/", "Getting started with pandas"
        ),
    ),
    rhythm=Rhythm("weekly", 120, 6),
    language="en",
)

PLACE: Final = "City library, room 2"

LAST_WEEK: Final = Agenda(
    checkin="How was your week? One thing you are stuck on.",
    coursework="Python for Everybody, chapters 7 and 8 (files and lists).",
    activity=Activity("Read the bike-share CSV together", 20),
    plusdelta="One thing that went well, one thing to change.",
).to_body()

HISTORY: Final[tuple[Line, ...]] = (
    Line("circle", AMARA, kinds.CIRCLE, CIRCLE_BODY, 10 * DAY),
    Line("join-jonas", JONAS, kinds.JOIN, {"message": "Hi all, new to Python!"}, 10 * DAY - HOUR),
    Line("join-mei", MEI, kinds.JOIN, {"message": "Here for the pandas part."}, 9 * DAY),
    Line("join-tomas", TOMAS, kinds.JOIN, {}, 9 * DAY - 2 * HOUR),
    _note(
        "welcome",
        AMARA,
        "Welcome to **Python for data**! This is a *demo* room: everyone marked (demo) is a"
        " simulated learner running on your own laptop, and nothing here leaves it. Write a"
        " note below, or select one and press **r** to reply, and see how a circle feels.",
        9 * DAY - 3 * HOUR,
    ),
    Line(
        "last-week",
        AMARA,
        kinds.MEETING,
        {"duration_minutes": 120, "place": PLACE, "agenda": LAST_WEEK},
        8 * DAY,
        starts_ago=7 * DAY,
        facilitator=AMARA,
    ),
    _about("rsvp-jonas", JONAS, kinds.RSVP, {"answer": "yes"}, 8 * DAY - HOUR),
    _about("rsvp-mei", MEI, kinds.RSVP, {"answer": "yes"}, 8 * DAY - 2 * HOUR),
    _about("rsvp-tomas", TOMAS, kinds.RSVP, {"answer": "maybe"}, 7 * DAY + 3 * HOUR),
    _about("here-amara", AMARA, kinds.ATTENDANCE, {}, 7 * DAY - 2 * MINUTE),
    _about(
        "checkin-jonas",
        JONAS,
        kinds.CHECKIN,
        {"feeling": "Curious", "working_on": "Chapter 8: lists", "need_help": "Dictionaries"},
        7 * DAY - 5 * MINUTE,
    ),
    _about(
        "checkin-mei",
        MEI,
        kinds.CHECKIN,
        {"feeling": "Busy week, but here", "working_on": "Reading the loans CSV"},
        7 * DAY - 6 * MINUTE,
    ),
    _about(
        "plusdelta-amara",
        AMARA,
        kinds.PLUSDELTA,
        {"plus": "Pair work on the bike-share data", "delta": "We ran out of time for plotting"},
        7 * DAY - 115 * MINUTE,
    ),
    _about(
        "plusdelta-mei",
        MEI,
        kinds.PLUSDELTA,
        {"plus": "Reading real data, not toy lists", "delta": "Start on time"},
        7 * DAY - 116 * MINUTE,
    ),
    _note(
        "checkin",
        JONAS,
        "Week 1 check-in: I finished the first two chapters of *Python for Everybody*."
        " Loops make sense now; dictionaries not yet.",
        6 * DAY,
    ),
    _note(
        "dict-tip",
        MEI,
        "Dictionaries clicked for me when I pictured a two-column table: the key on the"
        " left, the value on the right. `counts[word] = counts.get(word, 0) + 1` is the"
        " whole word-count exercise.",
        6 * DAY - 40 * MINUTE,
        reply_to="checkin",
    ),
    _note(
        "dict-thanks",
        JONAS,
        "That helps, thanks! Trying the word-count exercise again tonight.",
        6 * DAY - 55 * MINUTE,
        reply_to="dict-tip",
    ),
    Line(
        "resource",
        MEI,
        kinds.RESOURCE,
        {
            "url": "https://pandas.pydata.org/docs/user_guide/10min.html",
            "title": "10 minutes to pandas",
            "description": "The quickest tour of DataFrames I know.",
            "tags": ["pandas"],
        },
        5 * DAY,
    ),
    Line(
        "question",
        MEI,
        kinds.QUESTION,
        {
            "title": "How do I read a CSV that uses semicolons?",
            "text": "The library's loan data uses `;` between columns, so pandas puts"
            " everything in one column. How do I read it properly?",
            "tags": ["pandas", "csv"],
        },
        4 * DAY,
    ),
    Line(
        "answer-tomas",
        TOMAS,
        kinds.ANSWER,
        {
            "text": "`pd.read_csv('loans.csv', sep=';')`, and if the numbers use a comma"
            " for decimals, add `decimal=','` too."
        },
        4 * DAY - HOUR,
        {"question": "question"},
    ),
    Line(
        "answer-amara",
        AMARA,
        kinds.ANSWER,
        {
            "text": "Also look at `df.head()` right after loading: it shows at once if the"
            " columns came out right."
        },
        4 * DAY - 2 * HOUR,
        {"question": "question"},
    ),
    Line(
        "resolved",
        MEI,
        kinds.RESOLVED,
        {"note": "sep=';' did it. Thank you both!"},
        4 * DAY - 3 * HOUR,
        {"question": "question", "answer": "answer-tomas"},
    ),
)
"""The circle before the room opens: its description, members, last week's meeting,
notes, a shared resource and a resolved question."""

CHATTER: Final = (
    "Just found out `df.describe()` gives count, mean and quartiles in one go. So handy.",
    "Does anyone have a small dataset we could all practise on? Bus timetables, maybe?",
    "Check-in: tired today, but I want to finish the groupby exercise. I may need help with `agg`.",
    "Tip: `df['price'].str.replace(',', '.').astype(float)` fixed my weird number column.",
    "My first chart! A bar chart of loans per month. The labels overlap, though.",
    "Reading chapter 8 on lists. Slicing with negative numbers is like magic.",
    "Reminder: bring a laptop charger next week, the library has few sockets.",
    "I keep mixing up `loc` and `iloc`. loc is labels, iloc is positions, right?",
    "Plus from me: explaining my code out loud to Jonas made me find my own bug.",
    "Question for the group: Jupyter or plain `.py` files for the exercises?",
    "Wrote my notes on missing values (`isna`, `fillna`, `dropna`) if anyone wants them.",
    "The bike-share data has a column of dates as text. `pd.to_datetime` to the rescue.",
)

REPLIES: Final = (
    "Good point, I'll try that before next week.",
    "Same here! Shall we pair on it at the next meeting?",
    "Thanks, that saved me an evening of searching.",
    "Could you show it at the check-in? I'd like to see it step by step.",
    "Noted for our plus/delta. Nice one.",
    "Yes! And `df.sample(5)` is good for a quick look too.",
    "I had the same trouble last week. It gets easier, promise.",
)

ANSWER_TO_LEARNER: Final = (
    "Good question, {name}! I'd start with `df.head()` and `df.info()` to see what is"
    " there. Shall we look at it together at the next meeting?"
)

TO_THE_LEARNER: Final = (
    "Welcome to the circle, {name}! Glad you're here.",
    "Thanks {name}, good point. Let's bring it to the next check-in.",
    "{name}, I wondered the same. `df.info()` helped me a lot with that.",
    "Nice to read you, {name}. What are you learning at the moment?",
    "Good one, {name}! Want to pair on the next exercise?",
)
