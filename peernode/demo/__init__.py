"""The demo room: simulated learners on loopback nodes."""

from peernode.demo.room import DEMO_CIRCLE, DEMO_LABEL, DemoRoom

__all__ = ["DEMO_CIRCLE", "DEMO_LABEL", "DemoRoom"]
