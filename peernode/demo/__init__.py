"""The demo room: simulated learners on loopback nodes."""
