"""The deterministic answer text and the token counting rule.

Tokens: a token is a maximal run of non-whitespace characters, so ``count_tokens(text) ==
len(text.split())``. The same rule counts input (every text of the request) and output.

Text: word ``i`` (from 0) of the answer for ``(model_id, prompt)`` is
``WORDS[int(sha256(f"{seed}:{i}")[:8 hex digits], 16) % len(WORDS)]`` where
``seed = sha256(f"{model_id}\\n{prompt}")`` as lowercase hex. The answer is its words joined
by single spaces, so a shorter answer is always a prefix of a longer one.
"""

import hashlib

WORDS: tuple[str, ...] = (
    "able", "about", "above", "across", "after", "again", "almost", "along",
    "always", "answer", "around", "back", "because", "before", "better", "between",
    "bright", "build", "careful", "change", "clear", "close", "common", "could",
    "early", "easy", "every", "field", "final", "first", "follow", "great",
    "group", "happy", "large", "later", "learn", "light", "little", "model",
    "moment", "never", "number", "often", "order", "other", "people", "place",
    "point", "quick", "river", "second", "simple", "small", "stream", "table",
    "think", "under", "useful", "water", "while", "window", "world", "young",
)  # fmt: skip


def count_tokens(text: str) -> int:
    return len(text.split())


def answer_seed(model_id: str, prompt: str) -> str:
    return hashlib.sha256(f"{model_id}\n{prompt}".encode()).hexdigest()


def answer_words(model_id: str, prompt: str, count: int) -> list[str]:
    seed = answer_seed(model_id, prompt)
    return [_word(seed, index) for index in range(count)]


def expected_answer(model_id: str, prompt: str, tokens: int) -> str:
    """The text a request with this model and last user message gets when nothing cuts it short."""
    return " ".join(answer_words(model_id, prompt, tokens))


def _word(seed: str, index: int) -> str:
    digest = hashlib.sha256(f"{seed}:{index}".encode()).hexdigest()
    return WORDS[int(digest[:8], 16) % len(WORDS)]
