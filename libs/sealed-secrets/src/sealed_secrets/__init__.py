"""Secrets encrypted at rest: AES-256-GCM under versioned master keys (``cryptography``).

Each ciphertext is stored with the id of the key it was sealed under, so keys can be rotated:
the new key becomes the service's current key, the old one moves to its list of previous keys
(still read), and the service's rekey command re-encrypts every secret under the new one, after
which the old key can go. A key's id is derived from the key (the first 16 hex digits of its
SHA-256), so an id can never name two different keys and no setting has to be kept in step
with the key.

The caller's ``context`` (e.g. the owner's id) is the associated data: a ciphertext copied to
another row does not open. Keys come from settings as base64 (:func:`master_key`,
:func:`master_keys`); a rekey command runs :func:`reseal_all` over its table.
"""

from sealed_secrets.box import NONCE_BYTES, Sealed, SecretBox, SecretNotReadable, key_id
from sealed_secrets.keys import KEY_BYTES, master_key, master_keys
from sealed_secrets.rekey import reseal_all

__all__ = [
    "KEY_BYTES",
    "NONCE_BYTES",
    "Sealed",
    "SecretBox",
    "SecretNotReadable",
    "key_id",
    "master_key",
    "master_keys",
    "reseal_all",
]
