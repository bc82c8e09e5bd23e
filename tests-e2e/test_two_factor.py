"""Two-factor authentication through the gateway (issue 14): setup → verify → a login that asks
for a code → the code completes it → the same code is refused → a backup code works once →
an admin's reset, audited on the bus.

Codes are computed here from the secret with RFC 6238 itself (HMAC-SHA1, 30 s, 6 digits), not
with the service's library: what an authenticator app would show.
"""

import asyncio
import base64
import hashlib
import hmac
import struct
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import aio_pika
import httpx
import orjson
from helpers import BUS_EXCHANGE, DEMO_USERS, GATEWAY_URL, RABBITMQ_URL, bearer

PASSWORD = "E2e-Passw0rd!"
STEP = 30


def totp(secret: str, step: int) -> str:
    """RFC 6238's TOTP of ``step`` (RFC 4226's HOTP of the step counter)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def test_the_rfc_6238_vector():
    # RFC 6238 Appendix B, SHA-1, T = 59 s: 94287082 (8 digits), so 287082 in six.
    assert totp(base64.b32encode(b"12345678901234567890").decode(), 59 // STEP) == "287082"


async def settled_step(margin: float = 10.0) -> int:
    """The current step once at least ``margin`` seconds of it are left: its neighbours stay
    within the one step of drift the service accepts while the journey uses them."""
    left = STEP - time.time() % STEP
    if left < margin:
        await asyncio.sleep(left + 0.05)
    return int(time.time() // STEP)


async def login(client: httpx.AsyncClient, username: str, password: str) -> dict:
    response = await client.post(
        "/api/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def with_code(client: httpx.AsyncClient, mfa_token: str, code: str) -> httpx.Response:
    return await client.post("/api/auth/login/2fa", json={"mfaToken": mfa_token, "code": code})


async def mfa_token(client: httpx.AsyncClient, username: str) -> str:
    body = await login(client, username, PASSWORD)
    assert set(body) == {"mfaRequired", "mfaToken"} and body["mfaRequired"] is True, body
    return str(body["mfaToken"])


async def test_two_factor_journey(gateway):
    async with httpx.AsyncClient(base_url=GATEWAY_URL, timeout=30) as client:
        name = f"e2e{uuid.uuid4().hex[:12]}"
        registered = await client.post(
            "/api/auth/register",
            json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
        )
        assert registered.status_code == 201, registered.text
        user_id = registered.json()["user"]["id"]
        headers = bearer(registered.json()["accessToken"])

        # Setup: a secret, its otpauth:// URI, the QR code; nothing changes until verified.
        setup = await client.post("/api/auth/2fa/setup", headers=headers)
        assert setup.status_code == 200, setup.text
        secret, uri = setup.json()["secret"], setup.json()["otpauthUri"]
        parts = urlsplit(uri)
        assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
        assert parse_qs(parts.query)["secret"] == [secret]
        assert name in parts.path
        assert setup.json()["qrSvg"].startswith("<svg") and "</svg>" in setup.json()["qrSvg"]
        assert "accessToken" in await login(client, name, PASSWORD)

        # Verify with the previous step's code: on, and ten backup codes shown once.
        step = await settled_step()
        verified = await client.post(
            "/api/auth/2fa/verify", json={"code": totp(secret, step - 1)}, headers=headers
        )
        assert verified.status_code == 200, verified.text
        backup_codes = verified.json()["backupCodes"]
        assert verified.json()["enabled"] is True and len(set(backup_codes)) == 10

        # A login now asks for a code; its mfaToken is no access token anywhere.
        token = await mfa_token(client, name)
        for path in ("/api/auth/me", "/api/credits/balance", "/api/chat/sessions"):
            refused = await client.get(path, headers=bearer(token))
            assert refused.status_code == 401, (path, refused.text)

        # The current code completes the login.
        code = totp(secret, step)
        done = await with_code(client, token, code)
        assert done.status_code == 200, done.text
        assert set(done.json()) == {"accessToken", "refreshToken", "user"}
        me = await client.get("/api/auth/me", headers=bearer(done.json()["accessToken"]))
        assert me.status_code == 200 and me.json()["id"] == user_id
        spent = await with_code(client, token, totp(secret, step + 1))
        assert spent.status_code == 401 and spent.json()["code"] == "invalid_mfa_token"

        # The same code again, on a new login: refused.
        replayed = await with_code(client, await mfa_token(client, name), code)
        assert replayed.status_code == 401 and replayed.json()["code"] == "invalid_mfa_code"

        # A backup code works once.
        backup = await with_code(client, await mfa_token(client, name), backup_codes[0])
        assert backup.status_code == 200, backup.text
        again = await with_code(client, await mfa_token(client, name), backup_codes[0])
        assert again.status_code == 401 and again.json()["code"] == "invalid_mfa_code"

        # An admin resets it (audited on the bus): the password alone logs in again.
        event = await reset_and_hear_the_audit(client, user_id)
        assert event["action"] == "user.2fa_reset"
        assert (event["targetType"], event["targetId"]) == ("user", user_id)
        assert (event["before"], event["after"]) == ({"twoFactor": "enabled"}, {"twoFactor": "off"})
        assert "accessToken" in await login(client, name, PASSWORD)


async def test_only_an_admin_resets(gateway):
    async with httpx.AsyncClient(base_url=GATEWAY_URL, timeout=30) as client:
        user = await login(client, "user1", DEMO_USERS["user1"][0])
        path = f"/api/auth/users/{user['user']['id']}/2fa/reset"
        refused = await client.post(path, headers=bearer(user["accessToken"]))
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


async def reset_and_hear_the_audit(client: httpx.AsyncClient, user_id: str) -> dict:
    admin = await login(client, "admin", DEMO_USERS["admin"][0])
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            BUS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, "audit.recorded")
        reset = await client.post(
            f"/api/auth/users/{user_id}/2fa/reset", headers=bearer(admin["accessToken"])
        )
        assert reset.status_code == 204, reset.text
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            message = await queue.get(fail=False)
            if message is None:
                await asyncio.sleep(0.1)
                continue
            await message.ack()
            event = orjson.loads(message.body)
            if event.get("targetId") == user_id:
                assert event["actorId"] == admin["user"]["id"]
                return dict(event)
    raise AssertionError("no audit.recorded event for the reset")
