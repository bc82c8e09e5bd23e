"""What a username and a password must look like."""

import re
import uuid
from dataclasses import dataclass
from typing import Any

from zxcvbn import zxcvbn

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
# zxcvbn's score runs from 0 (guessable in under 10^3 tries) to 4 (over 10^10); 3 is "safely
# unguessable" against an online attack and slows an offline one. Would be PASSWORD_MIN_SCORE.
MIN_PASSWORD_SCORE = 3
# The estimator's cost grows faster than linearly with the length (~20-40 ms at 72 characters,
# ~100-200 ms at 128), so it reads only this many, the library's own cap. A password whose first
# 72 characters are strong is strong; one whose strength starts after them is refused.
ESTIMATED_CHARACTERS = 72


@dataclass(frozen=True)
class PasswordProblem:
    message: str
    details: dict[str, Any]


def username_problem(username: str) -> str | None:
    if not USERNAME_PATTERN.match(username):
        return (
            "Username must be 3 to 32 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    try:
        uuid.UUID(username)
    except ValueError:
        return None
    # Other services accept "a user id or a username": a name shaped like an id would be ambiguous.
    return "Username must not look like a user id"


def password_problem(password: str, *, username: str, email: str) -> PasswordProblem | None:
    """Why ``password`` is refused for this user, or None; CPU-bound, run it off the loop.

    Beyond the length, the judge is zxcvbn (Dropbox's estimator): it knows common and breached
    passwords, names, keyboard walks, dates, repeats and l33t, and it is given the username and
    the email so that a password built from them scores low.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return PasswordProblem(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters",
            {"minLength": MIN_PASSWORD_LENGTH},
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return PasswordProblem(
            f"Password must be at most {MAX_PASSWORD_LENGTH} characters",
            {"maxLength": MAX_PASSWORD_LENGTH},
        )
    local_part = email.partition("@")[0]
    estimate = zxcvbn(password[:ESTIMATED_CHARACTERS], user_inputs=[username, email, local_part])
    if estimate["score"] >= MIN_PASSWORD_SCORE:
        return None
    feedback = estimate["feedback"]
    warning = feedback.get("warning") or None
    message = "Password is too easy to guess"
    return PasswordProblem(
        f"{message}: {warning}" if warning else message,
        {
            "score": estimate["score"],
            "minScore": MIN_PASSWORD_SCORE,
            "warning": warning,
            "suggestions": list(feedback.get("suggestions") or []),
        },
    )
