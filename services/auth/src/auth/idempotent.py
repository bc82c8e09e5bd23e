"""``Idempotency-Key`` on auth's creating POSTs (issue 14), with the idempotency lib.

A route builds a :class:`Once` (``None`` without the header) and its service claims the key
first in the transaction that does the work, and records the response there: the work and its
key commit together or not at all; :func:`answer` sends what a replay will send again.

Every response auth keeps for a key holds a secret (a token pair, an ``sk-`` key, a TOTP
secret), so it is kept sealed: AES-256-GCM under ``MFA_ENCRYPTION_KEY`` (the box 2FA secrets
are sealed with, rotated the same way), with the caller and the key as associated data, so a
row copied to another caller or key does not open. A registration's body holds a password: its
digest is an HMAC under a key derived from ``MFA_ENCRYPTION_KEY``, not a bare SHA-256 one could
test password guesses against.
"""

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

import idempotency
from auth.two_factor.secret_box import Sealed, SecretBox, SecretNotReadable
from idempotency import IdempotentRequest, StoredResponse, answer, idempotent_responses
from service_kit import ApiError, app_state

__all__ = [
    "REPLAY_DESCRIPTION",
    "Once",
    "ReplayKeeper",
    "Replays",
    "answer",
    "idempotent_responses",
]

_KEY_ID_CHARS = 16  # secret_box.key_id's length, before the sealed blob in a kept body

REPLAY_DESCRIPTION = f"{idempotency.REPLAY_DESCRIPTION} The kept response is stored encrypted."


@dataclass(frozen=True)
class Replays:
    """What seals kept responses, and the key of registration digests."""

    box: SecretBox
    digest_key: bytes

    @classmethod
    def of(cls, box: SecretBox, master_key: bytes) -> "Replays":
        # A key of its own, derived from the master key: never the one that encrypts.
        digest_key = hmac.new(master_key, b"idempotency request digest", hashlib.sha256).digest()
        return cls(box, digest_key)

    def once(
        self, caller: str, request: IdempotentRequest | None, status_code: int
    ) -> "Once | None":
        return None if request is None else Once(caller, request, status_code, self.box)

    def registration(
        self, request: IdempotentRequest | None, username: str, body: bytes, status_code: int
    ) -> "Once | None":
        """A registration is anonymous: its caller is the account it asks for, so strangers'
        keys never meet, and only the very same body (password included) replays."""
        if request is None:
            return None
        digest = hmac.new(self.digest_key, body, hashlib.sha256).digest()
        keyed = IdempotentRequest(key=request.key, route=request.route, body_sha256=digest)
        return Once(f"register:{username.strip().lower()}", keyed, status_code, self.box)


ReplayKeeper = Annotated[Replays, Depends(app_state("replays"))]


@dataclass(frozen=True)
class Once(idempotency.Once):
    """The lib's key binding, its responses kept sealed by ``box``."""

    box: SecretBox

    def kept(self, response: StoredResponse) -> StoredResponse:
        sealed = self.box.seal(response.body, context=self._context)
        body = sealed.key_id.encode() + sealed.blob
        return StoredResponse(response.status_code, body, response.content_type)

    def opened(self, kept: StoredResponse) -> StoredResponse:
        body = kept.body
        sealed = Sealed(body[:_KEY_ID_CHARS].decode("ascii", "replace"), body[_KEY_ID_CHARS:])
        try:
            opened = self.box.open(sealed, context=self._context)
        except SecretNotReadable:  # sealed under a key no longer configured
            raise ApiError(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key's first response can no longer be read: use a new key",
            ) from None
        return StoredResponse(kept.status_code, opened, kept.content_type)

    @property
    def _context(self) -> bytes:
        return f"{self.caller}\n{self.request.key}".encode()
