"""`peernode demo`: the study room with simulated learners, to try peernode alone."""

from __future__ import annotations

from peernode.cli.options import command, pass_home
from peernode.home import Home


@command()
@pass_home
def demo(home: Home) -> None:
    """Open the study room with a demo circle of simulated learners.

    A few learners marked "(demo)" run on this laptop, in #demo-study-circle:
    they hold a meeting that starts within the first minute (RSVPs, check-ins,
    an activity, a question answered, plus/delta) and answer what you write.
    Nothing of the demo leaves this laptop, and your node listens only on this
    laptop meanwhile. When you quit they stop; of their events, only those
    yours refer to stay in your node.
    """
    from peernode.cli.tui_launch import open_tui

    open_tui(home, demo=True)
