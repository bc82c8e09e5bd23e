"""Which keys the simulator accepts (a documented development rule, not a secret store).

An API key (OpenAI-compatible bearer, Anthropic ``x-api-key``) is valid when it starts with
``sk-sim-`` or is one of ``API_KEYS``; an AWS access key id (the SigV4 ``Credential=``) when it
starts with ``AKIASIM`` or is one of ``ACCESS_KEY_IDS``. The defaults hold the development
credentials chat and the tests use. A request with no credential at all is let through, so raw
HTTP clients keep working; the SigV4 signature itself is not verified.
"""

import hashlib
import re
from dataclasses import dataclass

API_KEY_PREFIX = "sk-sim-"
ACCESS_KEY_ID_PREFIX = "AKIASIM"
_SIGV4_KEY_ID = re.compile(r"Credential=([^/,\s]+)/")


def fingerprint(secret: str) -> str:
    """What a test compares, and what is ever shown or logged of a key: 16 hex digits of its
    SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def words(text: str) -> frozenset[str]:
    return frozenset(word.strip() for word in text.split(",") if word.strip())


@dataclass(frozen=True)
class KeyRules:
    api_keys: frozenset[str]
    access_key_ids: frozenset[str]

    def api_key_valid(self, key: str) -> bool:
        return key.startswith(API_KEY_PREFIX) or key in self.api_keys

    def access_key_id_valid(self, key_id: str) -> bool:
        return key_id.startswith(ACCESS_KEY_ID_PREFIX) or key_id in self.access_key_ids


def sigv4_access_key_id(authorization: str) -> str | None:
    if not authorization.startswith("AWS4-HMAC-SHA256"):
        return None
    match = _SIGV4_KEY_ID.search(authorization)
    return match.group(1) if match else None
