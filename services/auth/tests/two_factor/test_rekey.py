"""Rotating the master key: auth-mfa-rekey re-encrypts every secret under the new one."""

import base64
import os
import uuid

from auth.config import DEV_MFA_ENCRYPTION_KEY
from auth.two_factor.rekey import rekey
from auth.two_factor.secret_box import Sealed, SecretBox, key_id

from .enrolment import enrolled, mfa_token, second_step


async def test_rekey_moves_every_secret_to_the_new_key_and_back(app, client):
    users = [await enrolled(client) for _ in range(3)]
    pool = app.state.two_factor.pool
    dev, new = base64.b64decode(DEV_MFA_ENCRYPTION_KEY), os.urandom(32)
    rotated = SecretBox(new, [dev])
    try:
        assert await rekey(pool, rotated, batch=2) >= 3
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT user_id, secret_key_id, secret_ciphertext FROM user_mfa"
            )
        assert {row["secret_key_id"] for row in rows} == {key_id(new)}
        by_user = {str(row["user_id"]): row for row in rows}
        for user in users:
            row = by_user[user.user_id]
            sealed = Sealed(row["secret_key_id"], bytes(row["secret_ciphertext"]))
            opened = SecretBox(new).open(sealed, context=uuid.UUID(user.user_id).bytes)
            assert opened.decode() == user.secret
        assert await rekey(pool, rotated) == 0  # nothing left under the old key
    finally:
        # The running app reads only the development key: give it its secrets back.
        assert await rekey(pool, SecretBox(dev, [new])) >= 3
    user = users[0]
    token = await mfa_token(client, user.username)
    assert (await second_step(client, token, user.code(user.verified_step + 1))).status_code == 200
