"""Rotating the master key: old credentials still open, and provisioning-byok-rekey moves
every one to the new key, after which the old key is not needed."""

import os
import uuid

import pytest

from provisioning.byok import repository
from provisioning.byok.config import ByokSettings
from provisioning.byok.crypto import open_secrets, seal
from provisioning.byok.rekey import rekey
from provisioning.byok.repository import NewCredential
from provisioning.byok.schemas import ApiKeyCredentials
from sealed_secrets import SecretBox, SecretNotReadable


async def stored(pool, box, secret: str) -> uuid.UUID:
    credential_id = uuid.uuid4()
    async with pool.acquire() as conn:
        await repository.insert(
            conn,
            NewCredential(
                id=credential_id,
                user_id=f"rekey-{uuid.uuid4().hex[:8]}",
                team_id=None,
                provider="openai",
                label="rekey",
                base_url=None,
                last4=secret[-4:],
                sealed=seal(box, credential_id, ApiKeyCredentials(api_key=secret)),
                created_by="test",
            ),
        )
    return credential_id


# The other tests' credentials are under the development key: every rekey here moves them back.
DEV_KEY = ByokSettings().byok_keys[0]


async def test_rekey_moves_every_credential_to_the_new_key(stack):
    pool = stack.app.state.pool
    old, new = os.urandom(32), os.urandom(32)
    ids = [await stored(pool, SecretBox(old), f"sk-sim-rekey-{i:04d}") for i in range(3)]
    rotated = SecretBox(new, [old, DEV_KEY])
    assert await rekey(pool, rotated, batch=2) >= 3
    assert await rekey(pool, rotated) == 0
    only_new = SecretBox(new)
    async with pool.acquire() as conn:
        for i, credential_id in enumerate(ids):
            credential = await repository.by_id(conn, credential_id)
            assert credential is not None and credential.secret_key_id == only_new.current_key_id
            secrets = open_secrets(only_new, credential_id, "openai", credential.sealed)
            assert secrets.api_key == f"sk-sim-rekey-{i:04d}"
    await rekey(pool, SecretBox(DEV_KEY, [new]))


async def test_a_credential_under_an_unknown_key_stops_the_rekey(stack):
    pool = stack.app.state.pool
    lost = await stored(pool, SecretBox(os.urandom(32)), "sk-sim-lost-key-0001")
    try:
        with pytest.raises(SecretNotReadable):
            await rekey(pool, SecretBox(DEV_KEY))
    finally:
        async with pool.acquire() as conn:
            await repository.delete(conn, lost)
