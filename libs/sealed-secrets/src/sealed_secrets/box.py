"""The box: seal under the current key, open under whichever configured key sealed it."""

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12  # GCM's standard nonce; random, never reused in practice under one key


class SecretNotReadable(Exception):
    """The key that sealed it is not configured, or the ciphertext is not intact."""


@dataclass(frozen=True, slots=True)
class Sealed:
    key_id: str
    blob: bytes  # nonce, then ciphertext and tag


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


class SecretBox:
    def __init__(self, current: bytes, previous: Sequence[bytes] = ()) -> None:
        self.current_key_id = key_id(current)
        self._ciphers = {key_id(key): AESGCM(key) for key in (*previous, current)}

    def seal(self, plaintext: bytes, *, context: bytes) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._ciphers[self.current_key_id].encrypt(nonce, plaintext, context)
        return Sealed(self.current_key_id, nonce + ciphertext)

    def open(self, sealed: Sealed, *, context: bytes) -> bytes:
        cipher = self._ciphers.get(sealed.key_id)
        if cipher is None:
            raise SecretNotReadable(f"no configured key has the id {sealed.key_id}")
        nonce, ciphertext = sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:]
        try:
            return cipher.decrypt(nonce, ciphertext, context)
        except InvalidTag:
            raise SecretNotReadable("the ciphertext or its context was altered") from None
