"""The learning-challenge screens: a circle's challenges, starting one, and reviewing work."""

from tui.challenges.actions import ChallengeActions
from tui.challenges.review import NewReview, ReviewDialog
from tui.challenges.screen import ChallengesScreen
from tui.challenges.submit import NewWork, SubmitDialog

__all__ = [
    "ChallengeActions",
    "ChallengesScreen",
    "NewReview",
    "NewWork",
    "ReviewDialog",
    "SubmitDialog",
]
