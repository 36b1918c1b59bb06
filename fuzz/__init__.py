"""Fuzzing of every decoder that takes bytes from the network (see docs/fuzzing.md).

`fuzz.targets` holds one function per decoder, `fuzz.corpus` the seed messages made with the
real encoders, `fuzz.mutator` our own mutation engine, `fuzz.bombs` the msgpack/DNS/varint
bombs, and `python -m fuzz.run` the runner (atheris when installed, else our mutator).
"""
