"""The demo room: simulated learners on this laptop, whose events never leave it."""

from peernode.demo.room import DEMO_CIRCLE, DEMO_LABEL, DemoRoom, DemoTiming

__all__ = ["DEMO_CIRCLE", "DEMO_LABEL", "DemoRoom", "DemoTiming"]
