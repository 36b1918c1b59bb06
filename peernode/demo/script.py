"""What the demo room's simulated learners say: a sample circle and their small talk."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from peernode.circles.bodies import circle_body
from peernode.circles.model import ResourceLink, Rhythm
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
    """One scripted event. member: index into the room's members (modulo their
    number); minutes_ago: before the room opens; refs: ref name -> label of an
    earlier line."""

    label: str
    member: int
    kind: str
    body: Mapping[str, Any]
    minutes_ago: int
    refs: Mapping[str, str] = field(default_factory=dict)


def _note(label: str, member: int, text: str, minutes_ago: int, reply_to: str = "") -> Line:
    refs = {"reply_to": reply_to} if reply_to else {}
    return Line(label, member, kinds.NOTE, {"text": text}, minutes_ago, refs)


CIRCLE_BODY: Final = circle_body(
    name="Python for data" + DEMO_LABEL,
    topic="Python and pandas for working with real data",
    description=(
        "A demo learning circle: the members are simulated on your own laptop and "
        "leave when you close peernode. We meet weekly for two hours: check-in, "
        "coursework, a short activity, then plus/delta."
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

SCRIPT: Final[tuple[Line, ...]] = (
    Line("circle", 0, kinds.CIRCLE, CIRCLE_BODY, 3 * DAY),
    Line("join-jonas", 1, kinds.JOIN, {"message": "Hi all, new to Python!"}, 3 * DAY - 2 * HOUR),
    Line("join-mei", 2, kinds.JOIN, {"message": "Here for the pandas part."}, 3 * DAY - 3 * HOUR),
    Line("join-tomas", 3, kinds.JOIN, {}, 2 * DAY + 20 * HOUR),
    _note(
        "welcome",
        0,
        "Welcome to **Python for data**! This is a *demo* room: everyone marked (demo) is a"
        " simulated learner running on your own laptop. Write a note below, or select one"
        " and press **r** to reply, and see how a circle feels.",
        2 * DAY + 18 * HOUR,
    ),
    _note(
        "checkin",
        1,
        "Week 1 check-in: I finished the first two chapters of *Python for Everybody*."
        " Loops make sense now; dictionaries not yet.",
        2 * DAY,
    ),
    _note(
        "dict-tip",
        2,
        "Dictionaries clicked for me when I pictured a two-column table: the key on the"
        " left, the value on the right. `counts[word] = counts.get(word, 0) + 1` is the"
        " whole word-count exercise.",
        2 * DAY - 40 * MINUTE,
        reply_to="checkin",
    ),
    _note(
        "dict-thanks",
        1,
        "That helps, thanks! Trying the word-count exercise again tonight.",
        2 * DAY - 55 * MINUTE,
        reply_to="dict-tip",
    ),
    Line(
        "resource",
        2,
        kinds.RESOURCE,
        {
            "url": "https://pandas.pydata.org/docs/user_guide/10min.html",
            "title": "10 minutes to pandas",
            "description": "The quickest tour of DataFrames I know.",
            "tags": ["pandas"],
        },
        1 * DAY + 6 * HOUR,
    ),
    Line(
        "question",
        2,
        kinds.QUESTION,
        {
            "title": "How do I read a CSV that uses semicolons?",
            "text": "The library's loan data uses `;` between columns, so pandas puts"
            " everything in one column. How do I read it properly?",
            "tags": ["pandas", "csv"],
        },
        1 * DAY,
    ),
    Line(
        "answer-tomas",
        3,
        kinds.ANSWER,
        {
            "text": "`pd.read_csv('loans.csv', sep=';')`, and if the numbers use a comma"
            " for decimals, add `decimal=','` too."
        },
        23 * HOUR,
        {"question": "question"},
    ),
    Line(
        "answer-amara",
        0,
        kinds.ANSWER,
        {
            "text": "Also look at `df.head()` right after loading: it shows at once if the"
            " columns came out right."
        },
        22 * HOUR,
        {"question": "question"},
    ),
    _note(
        "plusdelta",
        3,
        "Plus/delta from Thursday. Plus: pair work on the bike-share data was fun."
        " Delta: we ran out of time for plotting, so let's start with it next week.",
        5 * HOUR,
    ),
    _note(
        "next-meeting",
        0,
        "Next meeting: Thursday 18:00 in the library, room 2. Activity: 15 minutes of"
        " pair debugging. Who would like to facilitate?",
        2 * HOUR,
    ),
    _note(
        "facilitate",
        1,
        "I can facilitate! I'll bring the check-in questions.",
        90 * MINUTE,
        reply_to="next-meeting",
    ),
)

CHATTER: Final = (
    "Just found out `df.describe()` gives count, mean and quartiles in one go. So handy.",
    "Does anyone have a small dataset we could all practise on? Bus timetables, maybe?",
    "Check-in: tired today, but I want to finish the groupby exercise. I may need help with `agg`.",
    "Tip: `df['price'].str.replace(',', '.').astype(float)` fixed my weird number column.",
    "My first chart! A bar chart of loans per month. The labels overlap, though.",
    "Reading chapter 8 on lists. Slicing with negative numbers is like magic.",
    "Reminder: bring a laptop charger on Thursday, the library has few sockets.",
    "I keep mixing up `loc` and `iloc`. loc is labels, iloc is positions, right?",
    "Plus from me: explaining my code out loud to Jonas made me find my own bug.",
    "Question for the group: Jupyter or plain `.py` files for the exercises?",
    "Wrote my notes on missing values (`isna`, `fillna`, `dropna`) if anyone wants them.",
    "The bike-share data has a column of dates as text. `pd.to_datetime` to the rescue.",
)

REPLIES: Final = (
    "Good point, I'll try that before Thursday.",
    "Same here! Shall we pair on it at the next meeting?",
    "Thanks, that saved me an evening of searching.",
    "Could you show it at the check-in? I'd like to see it step by step.",
    "Noted for our plus/delta. Nice one.",
    "Yes! And `df.sample(5)` is good for a quick look too.",
    "I had the same trouble last week. It gets easier, promise.",
)

ANSWER_TO_LEARNER: Final = (
    "Good question, {name}! I'd start with `df.head()` and `df.info()` to see what is"
    " there. Shall we look at it together on Thursday?"
)

TO_THE_LEARNER: Final = (
    "Welcome to the circle, {name}! Glad you're here.",
    "Thanks {name}, good point. Let's bring it to Thursday's check-in.",
    "{name}, I wondered the same. `df.info()` helped me a lot with that.",
    "Nice to read you, {name}. What are you learning at the moment?",
    "Good one, {name}! Want to pair on the next exercise?",
)
