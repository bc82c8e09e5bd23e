"""``provisioning-byok-rekey``: re-encrypt every BYOK credential under ``BYOK_ENCRYPTION_KEY``.

Rotating the master key: make the new key ``BYOK_ENCRYPTION_KEY``, move the old one to
``BYOK_PREVIOUS_ENCRYPTION_KEYS``, restart provisioning (it reads both), run this with the same
settings, then drop the old key. It is safe while provisioning runs: a row is rewritten only if
its ciphertext is still the one read. It prints how many credentials it re-encrypted.
"""

import asyncio
import json

import asyncpg

from provisioning.byok import repository
from provisioning.config import ProvisioningSettings
from sealed_secrets import Sealed, SecretBox, reseal_all

BATCH = 500


async def rekey(pool: asyncpg.Pool, box: SecretBox, *, batch: int = BATCH) -> int:
    """Re-encrypt the credentials sealed under any other key than the box's current one;
    raises ``SecretNotReadable`` for one whose key is not configured."""

    async def load(key_id: str, limit: int) -> list[repository.Credential]:
        async with pool.acquire() as conn:
            return await repository.sealed_under_other_keys(conn, key_id, limit)

    async def store(credential: repository.Credential, sealed: Sealed) -> int:
        async with pool.acquire() as conn:
            return await repository.reseal(conn, credential, sealed)

    return await reseal_all(
        box,
        sealed_under_other_keys=load,
        sealed_of=lambda credential: credential.sealed,
        context_of=lambda credential: credential.id.bytes,
        reseal=store,
        batch=batch,
    )


async def _main(settings: ProvisioningSettings) -> int:
    box = SecretBox(*settings.byok_keys)
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
    settings = ProvisioningSettings()
    resealed = asyncio.run(_main(settings))
    key_id = SecretBox(*settings.byok_keys).current_key_id
    print(json.dumps({"resealed": resealed, "keyId": key_id}))
