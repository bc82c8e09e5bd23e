"""Backup codes: ten single-use codes shown once when 2FA is turned on, stored as argon2id
hashes (the password hasher's), for when the authenticator is not at hand.

A code is ten characters from an alphabet without look-alikes (no 0/o, 1/l/i), about 49 bits
of chance, written ``xxxxx-xxxxx``; it is read whatever its case, spaces and hyphens, so it
can never be taken for a TOTP code (six digits).
"""

import secrets

COUNT = 10
LENGTH = 10
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_codes() -> list[str]:
    return [_format("".join(secrets.choice(ALPHABET) for _ in range(LENGTH))) for _ in range(COUNT)]


def normalized(code: str) -> str:
    """What is compared: lower case, without separators."""
    return "".join(code.split()).replace("-", "").lower()


def looks_like_backup_code(code: str) -> bool:
    return len(code) == LENGTH and all(char in ALPHABET for char in code)


def _format(code: str) -> str:
    half = LENGTH // 2
    return f"{code[:half]}-{code[half:]}"
