"""A simple, explainable choice: strengths that match the task's words, then the priority."""

import re

from chat.config import ModelConfig

TIER_RANK = {"economy": 0, "standard": 1, "premium": 2}
KEYWORDS = {
    "coding": {"code", "coding", "program", "function", "bug", "python", "sql", "debug"},
    "summarization": {"summarize", "summarise", "summary", "tl;dr", "condense", "shorten"},
    "writing": {"write", "essay", "story", "email", "draft", "letter", "blog"},
    "reasoning": {"analyze", "analyse", "reason", "plan", "math", "prove", "compare", "why"},
    "chat": {"chat", "talk", "question", "answer", "help"},
}


def recommend(models: list[ModelConfig], task: str, priority: str) -> tuple[ModelConfig, str]:
    """The best model for ``task`` under ``priority`` (quality, speed or cost), and why."""
    words = set(re.findall(r"[a-z;.]+", task.lower()))
    wanted = {strength for strength, keys in KEYWORDS.items() if words & keys}

    def score(model: ModelConfig) -> tuple[int, ...]:
        fit = len(wanted & set(model.strengths))
        tier = TIER_RANK[model.tier]
        if priority == "quality":
            return (fit, tier, "speed" in model.strengths)
        if priority == "speed":
            return ("speed" in model.strengths, fit, -tier)
        return (-tier, fit, "speed" in model.strengths)  # cost

    best = max(models, key=score)
    matched = sorted(wanted & set(best.strengths))
    because = f"good at {', '.join(matched)}" if matched else "a sound general choice"
    return best, f"{best.display_name}: {because}, and the best fit for priority '{priority}'"
