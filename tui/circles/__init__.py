"""The study circle in the TUI: its page, meeting mode, questions, report and their dialogs."""

from tui.circles.actions import CircleActions
from tui.circles.base import CircleBase, Command
from tui.circles.meeting import MeetingScreen
from tui.circles.page import CirclePage
from tui.circles.questions import QuestionsScreen
from tui.circles.report import ReportScreen

__all__ = [
    "CircleActions",
    "CircleBase",
    "CirclePage",
    "Command",
    "MeetingScreen",
    "QuestionsScreen",
    "ReportScreen",
]
