"""Benchmarks that print their figures next to their targets.

Run each from the repository's root as a module, e.g. ``uv run python -m bench.streams``;
``bench.harness`` is what they share (clients, timing, /proc, the platform's users).
"""
