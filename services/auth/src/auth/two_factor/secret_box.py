"""2FA secrets encrypted at rest: AES-256-GCM under versioned master keys (``cryptography``).

Each ciphertext is stored with the id of the key it was sealed under, so keys can be rotated:
the new key becomes ``MFA_ENCRYPTION_KEY``, the old one moves to
``MFA_PREVIOUS_ENCRYPTION_KEYS`` (still read), and ``auth-mfa-rekey`` re-encrypts every secret
under the new one, after which the old key can go. A key's id is derived from the key (the
first 16 hex digits of its SHA-256), so an id can never name two different keys and no
setting has to be kept in step with the key.

The user's id is the associated data: a ciphertext copied to another user's row does not open.
The box itself is the ``sealed_secrets`` lib's, shared with provisioning's BYOK credentials.
"""

from sealed_secrets import NONCE_BYTES, Sealed, SecretBox, SecretNotReadable, key_id

__all__ = ["NONCE_BYTES", "Sealed", "SecretBox", "SecretNotReadable", "key_id"]
