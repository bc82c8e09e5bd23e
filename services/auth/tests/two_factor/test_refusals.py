"""What 2FA refuses: mfaTokens as bearer tokens, throttled guesses, tokens of keys and
services, non-admins resetting, and secrets in plain text."""

import asyncio
import base64
import uuid

import aio_pika
import orjson

from auth.config import DEV_MFA_ENCRYPTION_KEY
from auth.two_factor.secret_box import Sealed, SecretBox

from ..conftest import admin_token, bearer, client_for, login, register, service_headers
from ..test_api_keys import exchange
from .enrolment import PASSWORD, enrolled, mfa_token, second_step


def fresh_ip() -> str:
    return f"10.77.{uuid.uuid4().int % 256}.{uuid.uuid4().int % 254 + 1}"


async def test_an_mfa_token_is_no_access_token_anywhere(client):
    user = await enrolled(client)
    token = await mfa_token(client, user.username)
    for method, path in (
        ("GET", "/api/auth/me"),
        ("GET", "/api/auth/api-keys"),
        ("POST", "/api/auth/2fa/setup"),
        ("GET", "/api/auth/users"),
        ("POST", "/api/auth/logout"),
    ):
        response = await client.request(method, path, headers=bearer(token), json={})
        assert response.status_code == 401, (path, response.text)
        assert response.json()["code"] == "invalid_token"
    # ... and it still works for what it is for.
    assert (await second_step(client, token, user.backup_codes[0])).status_code == 200


async def test_wrong_codes_at_login_are_throttled_like_passwords(app, settings):
    limit = settings.login_max_failures
    async with client_for(app, fresh_ip()) as client:
        user = await enrolled(client)
        first, second = (
            await mfa_token(client, user.username),
            await mfa_token(client, user.username),
        )
        statuses = [(await second_step(client, first, "000000")).status_code for _ in range(3)]
        statuses += [
            (await second_step(client, second, "000000")).status_code for _ in range(limit)
        ]
        right = await second_step(client, second, user.code(user.verified_step + 1))
    assert statuses[:limit] == [401] * limit
    assert set(statuses[limit:]) == {429}
    assert right.status_code == 429, "the right code is refused while throttled"
    assert right.json()["code"] == "rate_limited"
    assert 1 <= int(right.headers["Retry-After"]) <= settings.login_failure_window_seconds
    # From another address the user's own code still works (the pair is throttled, not them).
    async with client_for(app, fresh_ip()) as elsewhere:
        token = await mfa_token(elsewhere, user.username)
        assert (
            await second_step(elsewhere, token, user.code(user.verified_step + 1))
        ).status_code == 200


async def test_an_mfa_token_takes_only_so_many_wrong_codes(app, settings):
    async with client_for(app, fresh_ip()) as client:
        user = await enrolled(client)
        token = await mfa_token(client, user.username)
    # From as many addresses as attempts, so the throttle is not what refuses.
    for _ in range(settings.mfa_max_attempts_per_token):
        async with client_for(app, fresh_ip()) as guesser:
            assert (await second_step(guesser, token, "999999")).status_code == 401
    async with client_for(app, fresh_ip()) as client:
        spent = await second_step(client, token, user.code(user.verified_step + 1))
    assert spent.status_code == 401 and spent.json()["code"] == "invalid_mfa_token"


async def test_wrong_codes_to_turn_2fa_off_are_throttled(app, settings):
    async with client_for(app, fresh_ip()) as client:
        user = await enrolled(client)
        headers = bearer(user.access_token)
        statuses = [
            (
                await client.request(
                    "DELETE", "/api/auth/2fa", json={"code": "000000"}, headers=headers
                )
            ).status_code
            for _ in range(settings.login_max_failures + 2)
        ]
    assert statuses == [400] * settings.login_max_failures + [429, 429]


async def test_parallel_guesses_get_at_most_the_limit_judged(app, settings):
    async with client_for(app, fresh_ip()) as client:
        user = await enrolled(client)
        tokens = [await mfa_token(client, user.username) for _ in range(6)]
        guesses = [second_step(client, tokens[i % 6], f"{i:06d}") for i in range(30)]
        statuses = [response.status_code for response in await asyncio.gather(*guesses)]
    assert statuses.count(401) <= settings.login_max_failures
    assert statuses.count(429) >= 30 - settings.login_max_failures


async def test_keys_and_services_cannot_touch_2fa(app, client):
    user = await register(client)
    created = await client.post(
        "/api/auth/api-keys", json={"name": "k"}, headers=bearer(user["accessToken"])
    )
    key_token = (await exchange(client, created.json()["key"])).json()["accessToken"]
    for headers in (bearer(key_token), service_headers("provisioning")):
        for method, path, body in (
            ("POST", "/api/auth/2fa/setup", None),
            ("POST", "/api/auth/2fa/verify", {"code": "123456"}),
            ("DELETE", "/api/auth/2fa", {"code": "123456"}),
        ):
            response = await client.request(method, path, json=body, headers=headers)
            assert (response.status_code, response.json()["code"]) == (403, "forbidden"), path


async def test_only_admins_reset_and_the_reset_is_audited(client, rabbitmq_url, bus_namespace):
    user = await enrolled(client)
    path = f"/api/auth/users/{user.user_id}/2fa/reset"
    for name, password in (("user1", "User1@123"), ("supervisor1", "Supervisor1@")):
        token = (await login(client, name, password)).json()["accessToken"]
        refused = await client.post(path, headers=bearer(token))
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert (await client.post(path)).status_code == 401
    admin = await admin_token(client)
    missing = await client.post(f"/api/auth/users/{uuid.uuid4()}/2fa/reset", headers=bearer(admin))
    assert missing.status_code == 404
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        exchange_ = await channel.declare_exchange(
            bus_namespace.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(bus_namespace.queue_name(f"audit-{uuid.uuid4().hex}"))
        await queue.bind(exchange_, "audit.recorded")
        reset = await client.post(path, headers={**bearer(admin), "X-Request-ID": "reset-test-1"})
        assert reset.status_code == 204, reset.text
        event = await _first_event(queue, target=user.user_id)
    admin_id = (await client.get("/api/auth/me", headers=bearer(admin))).json()["id"]
    assert event["type"] == "audit.recorded"
    assert {k: event[k] for k in ("actorId", "action", "targetType", "targetId", "requestId")} == {
        "actorId": admin_id,
        "action": "user.2fa_reset",
        "targetType": "user",
        "targetId": user.user_id,
        "requestId": "reset-test-1",
    }
    assert (event["before"], event["after"]) == ({"twoFactor": "enabled"}, {"twoFactor": "off"})
    # Reset: the password alone logs in again.
    plain = await login(client, user.username, PASSWORD)
    assert set(plain.json()) == {"accessToken", "refreshToken", "user"}


async def _first_event(queue, *, target: str, deadline: float = 10.0) -> dict:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while loop.time() < end:
        message = await queue.get(fail=False)
        if message is None:
            await asyncio.sleep(0.05)
            continue
        await message.ack()
        event = orjson.loads(message.body)
        if event.get("targetId") == target:
            return event
    raise AssertionError("no audit.recorded event for the reset")


async def test_the_secret_is_stored_encrypted(app, client):
    user = await enrolled(client)
    async with app.state.two_factor.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT secret_key_id, secret_ciphertext FROM user_mfa WHERE user_id = $1",
            uuid.UUID(user.user_id),
        )
        dump = await conn.fetchval(
            "SELECT row_to_json(m)::text FROM user_mfa m WHERE user_id = $1",
            uuid.UUID(user.user_id),
        )
        codes = await conn.fetch(
            "SELECT code_hash FROM mfa_backup_codes WHERE user_id = $1", uuid.UUID(user.user_id)
        )
    ciphertext = bytes(row["secret_ciphertext"])
    raw = base64.b32decode(user.secret)
    for plain in (user.secret.encode(), user.secret.lower().encode(), raw):
        assert plain not in ciphertext
    assert user.secret not in dump and user.secret.lower() not in dump
    box = SecretBox(base64.b64decode(DEV_MFA_ENCRYPTION_KEY))
    assert row["secret_key_id"] == box.current_key_id
    sealed = Sealed(row["secret_key_id"], ciphertext)
    assert box.open(sealed, context=uuid.UUID(user.user_id).bytes).decode() == user.secret
    # Backup codes: argon2id hashes, never the codes.
    assert len(codes) == 10
    stored = " ".join(code["code_hash"] for code in codes)
    assert all(c["code_hash"].startswith("$argon2id$") for c in codes)
    for code in user.backup_codes:
        assert code not in stored and code.replace("-", "") not in stored
