"""``auth-mfa-rekey``: re-encrypt every 2FA secret under ``MFA_ENCRYPTION_KEY``.

Rotating the master key: make the new key ``MFA_ENCRYPTION_KEY``, move the old one to
``MFA_PREVIOUS_ENCRYPTION_KEYS``, restart auth (it reads both), run this with the same
settings, then drop the old key. It is safe while auth runs: a row is rewritten only if its
ciphertext is still the one read (a user who sets 2FA up anew meanwhile gets the new key
anyway). It prints how many secrets it re-encrypted.
"""

import asyncio
import json

import asyncpg

from auth.config import AuthSettings
from auth.two_factor import repository
from auth.two_factor.secret_box import SecretBox
from sealed_secrets import Sealed, reseal_all

BATCH = 500


async def rekey(pool: asyncpg.Pool, box: SecretBox, *, batch: int = BATCH) -> int:
    """Re-encrypt the secrets sealed under any other key than the box's current one; raises
    ``SecretNotReadable`` for a secret whose key is not configured."""

    async def load(key_id: str, limit: int) -> list[repository.Factor]:
        async with pool.acquire() as conn:
            return await repository.sealed_under_other_keys(conn, key_id, limit)

    async def store(factor: repository.Factor, sealed: Sealed) -> int:
        async with pool.acquire() as conn:
            return int(await repository.reseal(conn, factor, sealed))

    return await reseal_all(
        box,
        sealed_under_other_keys=load,
        sealed_of=lambda factor: factor.sealed,
        context_of=lambda factor: factor.user_id.bytes,
        reseal=store,
        batch=batch,
    )


async def _main(settings: AuthSettings) -> int:
    box = SecretBox(*settings.mfa_keys)
    pool = await asyncpg.create_pool(
        settings.database_url,
        min_size=1,
        max_size=2,
        timeout=settings.database_connect_timeout_seconds,
    )
    try:
        return await rekey(pool, box)
    finally:
        await pool.close()


def run() -> None:
    settings = AuthSettings()
    resealed = asyncio.run(_main(settings))
    key_id = SecretBox(*settings.mfa_keys).current_key_id
    print(json.dumps({"resealed": resealed, "keyId": key_id}))
