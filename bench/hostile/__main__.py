"""`python -m bench.hostile`: the runner (see bench/hostile/runner.py)."""

from bench.hostile.runner import main

main()
