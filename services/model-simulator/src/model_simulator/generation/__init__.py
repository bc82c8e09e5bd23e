"""Deterministic answers: which words, how many, and how fast they come."""

from model_simulator.generation.text import count_tokens, expected_answer

__all__ = ["count_tokens", "expected_answer"]
