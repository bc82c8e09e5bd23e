"""Master keys as settings hold them: base64 of 32 random bytes (`openssl rand -base64 32`)."""

import base64
import binascii

KEY_BYTES = 32  # AES-256


def master_key(text: str, variable: str) -> bytes:
    """The key ``text`` encodes; a ValueError naming ``variable`` when it is not one."""
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{variable} must be base64 (of {KEY_BYTES} random bytes)") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"{variable} must decode to {KEY_BYTES} bytes, not {len(key)}")
    return key


def master_keys(
    current: str, previous: str, *, current_variable: str, previous_variable: str
) -> tuple[bytes, list[bytes]]:
    """The current key and the comma-separated older ones, decoded (as ``SecretBox`` takes)."""
    older = [word.strip() for word in previous.split(",") if word.strip()]
    return (
        master_key(current, current_variable),
        [master_key(key, previous_variable) for key in older],
    )
