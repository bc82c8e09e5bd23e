"""What a username and a password must look like."""

import re
import uuid

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password123",
        "12345678",
        "123456789",
        "1234567890",
        "qwerty123",
        "qwertyuiop",
        "iloveyou1",
        "admin123",
        "letmein1",
        "welcome1",
        "11111111",
        "abc12345",
    }
)


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


def password_problem(password: str, username: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be at most {MAX_PASSWORD_LENGTH} characters"
    if not re.search(r"[A-Za-z]", password) or not re.search(r"[^A-Za-z]", password):
        return "Password must contain letters and at least one digit or symbol"
    if password.lower() in COMMON_PASSWORDS:
        return "Password is too common"
    if username.lower() in password.lower():
        return "Password must not contain the username"
    return None
