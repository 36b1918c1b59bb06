"""Attacks from peers that complete the handshake, against a real node in namespaces.

    sudo env PYTHONPATH=. .venv/bin/python -m bench.hostile --attack all --duration 20

A victim (`peernode serve` on a home holding 50,000 notes), an honest peer linked to it
and an attacker run each in its own network namespace on one bridge. The honest peer
posts a note every 200 ms; the runner measures how long each takes to reach the victim,
the victim's RSS, what it stored, and whether it syncs normally once the attack stops.

Modules: `world` (the seed homes and what an attacker may know of them), `conn` (the
attacker's links, both ways), `attacks` (one coroutine per attack), `attacker` (the
attacker process), `probe` (posting and watching through the local API), `room` (the
namespaces and processes of one run), `runner` (the phases, the figures, the table).
"""
