import hashlib
import re

from model_simulator.generation import count_tokens, expected_answer
from model_simulator.generation.answer import StopCause, plan_answer
from model_simulator.generation.simulation import Pace
from model_simulator.generation.text import WORDS, answer_words


def test_a_token_is_a_run_of_non_whitespace():
    assert count_tokens("") == 0
    assert count_tokens("  one\ttwo\n three!  ") == 3


def test_the_answer_is_a_pure_function_of_model_and_prompt():
    answer = expected_answer("model-a", "prompt", 20)

    assert answer == expected_answer("model-a", "prompt", 20)
    assert answer != expected_answer("model-b", "prompt", 20)
    assert answer != expected_answer("model-a", "prompt!", 20)
    assert count_tokens(answer) == 20
    assert set(answer.split()) <= set(WORDS)


def test_the_documented_rule_reproduces_the_words():
    seed = hashlib.sha256(b"m\np").hexdigest()
    third = WORDS[int(hashlib.sha256(f"{seed}:2".encode()).hexdigest()[:8], 16) % len(WORDS)]

    assert answer_words("m", "p", 3)[2] == third


def test_a_shorter_answer_is_a_prefix_of_a_longer_one():
    assert expected_answer("m", "p", 40).startswith(expected_answer("m", "p", 7) + " ")


def test_max_tokens_below_the_length_cuts_and_at_the_length_does_not():
    assert plan_answer("m", "p", length=10, max_tokens=4, stop_sequences=()).stop is (
        StopCause.MAX_TOKENS
    )
    assert plan_answer("m", "p", length=10, max_tokens=10, stop_sequences=()).stop is StopCause.END
    assert len(plan_answer("m", "p", length=10, max_tokens=4).words) == 4


def test_a_stop_sequence_keeps_the_whole_words_before_it():
    words = answer_words("m", "p", 10)
    text = " ".join(words)
    sequence = words[3][1:]  # inside the fourth word, and maybe inside an earlier one too
    first = text.find(sequence)

    answer = plan_answer("m", "p", length=10, max_tokens=None, stop_sequences=["zzz", sequence])

    kept = [m.group() for m in re.finditer(r"\S+", text) if m.end() <= first]
    assert answer.stop is StopCause.STOP_SEQUENCE
    assert list(answer.words) == kept
    assert len(kept) <= 3


def test_pieces_stream_the_text_word_by_word():
    answer = plan_answer("m", "p", length=5, max_tokens=None)

    assert "".join(answer.piece(i) for i in range(5)) == answer.text


def test_tokens_are_due_after_the_first_delay_at_the_rate():
    assert Pace(first_token_delay=0.2, tokens_per_second=10).offset(0) == 0.2
    assert Pace(first_token_delay=0.2, tokens_per_second=10).offset(5) == 0.7
    assert Pace(first_token_delay=0.2, tokens_per_second=0).offset(5) == 0.2
