"""The answer a request gets: its words, cut by max tokens or a stop sequence."""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from model_simulator.generation.text import answer_words


class StopCause(StrEnum):
    END = "end"
    MAX_TOKENS = "max_tokens"
    STOP_SEQUENCE = "stop_sequence"


@dataclass(frozen=True)
class Answer:
    words: tuple[str, ...]
    stop: StopCause

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def piece(self, index: int) -> str:
        """The text token ``index`` adds to a stream: its word, after a space but the first."""
        word = self.words[index]
        return word if index == 0 else f" {word}"


def plan_answer(
    model_id: str,
    prompt: str,
    *,
    length: int,
    max_tokens: int | None,
    stop_sequences: Sequence[str] = (),
) -> Answer:
    count = length if max_tokens is None else min(max_tokens, length)
    limited = count < length
    words = answer_words(model_id, prompt, count)
    kept = _words_before_stop_sequence(words, stop_sequences)
    if kept is not None:
        return Answer(tuple(words[:kept]), StopCause.STOP_SEQUENCE)
    return Answer(tuple(words), StopCause.MAX_TOKENS if limited else StopCause.END)


def _words_before_stop_sequence(words: list[str], stop_sequences: Sequence[str]) -> int | None:
    """How many whole words end before the first stop sequence in the text, if one occurs."""
    text = " ".join(words)
    found = [at for sequence in stop_sequences if sequence and (at := text.find(sequence)) >= 0]
    if not found:
        return None
    first = min(found)
    end = -1  # the offset just past the previous word, counting the joining space
    for kept, word in enumerate(words):
        end += len(word) + 1
        if end > first:
            return kept
    return len(words)
