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
from sealed_secrets import SecretBox

BATCH = 500


async def rekey(pool: asyncpg.Pool, box: SecretBox, *, batch: int = BATCH) -> int:
    """Re-encrypt the credentials sealed under any other key than the box's current one;
    raises ``SecretNotReadable`` for one whose key is not configured."""
    resealed = 0
    while True:
        async with pool.acquire() as conn:
            credentials = await repository.sealed_under_other_keys(conn, box.current_key_id, batch)
        if not credentials:
            return resealed
        for credential in credentials:
            context = credential.id.bytes
            sealed = box.seal(box.open(credential.sealed, context=context), context=context)
            async with pool.acquire() as conn:
                resealed += await repository.reseal(conn, credential, sealed)


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
