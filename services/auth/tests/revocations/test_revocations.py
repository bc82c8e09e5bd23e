"""Tokens already issued stop working within a second of what revokes them, at auth's own
routes too, and every revocation is listed for services that start later."""

import asyncio
import uuid

from bus_events import OrganizationDeleted, event_of
from jwt_contract import InvalidToken

from ..conftest import admin_token, bearer, register, service_headers

PROVISIONING = service_headers("provisioning")
GATEWAY = service_headers("gateway")


async def refused_within(client, path: str, token: str, seconds: float = 1.0) -> float:
    """How long until ``token`` is refused at ``path`` (fails past ``seconds``)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while (await client.get(path, headers=bearer(token))).status_code != 401:
        assert loop.time() - started < seconds, f"{path} still accepts the token"
        await asyncio.sleep(0.02)
    return loop.time() - started


async def test_a_disabled_users_tokens_are_refused_within_a_second(client):
    user = await register(client)
    token = user["accessToken"]
    assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 200
    admin = await admin_token(client)
    changed = await client.patch(
        f"/api/auth/users/{user['user']['id']}", json={"disabled": True}, headers=bearer(admin)
    )
    assert changed.status_code == 200
    await refused_within(client, "/api/auth/me", token)


async def test_a_role_change_refuses_the_old_tokens_but_not_new_ones(client):
    user = await register(client)
    old = user["accessToken"]
    admin = await admin_token(client)
    await client.patch(
        f"/api/auth/users/{user['user']['id']}", json={"role": "supervisor"}, headers=bearer(admin)
    )
    await refused_within(client, "/api/auth/me", old)
    again = await client.post(
        "/api/auth/login", json={"username": user["user"]["username"], "password": "Str0ng-pass!"}
    )
    fresh = again.json()["accessToken"]
    me = await client.get("/api/auth/me", headers=bearer(fresh))
    assert (me.status_code, me.json()["role"]) == (200, "supervisor")


async def verifier_refuses_within(app, token: str, seconds: float = 1.0) -> None:
    """Key tokens have no user behind /me: ask auth's own verifier, as each route would."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while True:
        try:
            app.state.token_verifier.verify(token)
        except InvalidToken:
            return
        assert loop.time() - started < seconds, "the token is still accepted"
        await asyncio.sleep(0.02)


async def mint(client, organization_id: str | None = None) -> dict:
    body = {
        "teamId": f"team-{uuid.uuid4().hex[:8]}",
        "accountId": str(uuid.uuid4()),
        "name": "k",
        "createdBy": "owner",
        **({"organizationId": organization_id} if organization_id else {}),
    }
    response = await client.post("/internal/api-keys", json=body, headers=PROVISIONING)
    assert response.status_code == 201, response.text
    return response.json()


async def exchanged(client, key: str) -> str:
    response = await client.post(
        "/internal/api-keys/exchange", json={"apiKey": key}, headers=GATEWAY
    )
    assert response.status_code == 200, response.text
    return response.json()["accessToken"]


async def test_a_revoked_keys_tokens_are_refused_within_a_second(app, client):
    key = await mint(client)
    token = await exchanged(client, key["key"])
    assert app.state.token_verifier.verify(token).claims["keyId"] == key["id"]
    revoked = await client.delete(f"/internal/api-keys/{key['id']}", headers=PROVISIONING)
    assert revoked.status_code == 200
    await verifier_refuses_within(app, token)


async def test_a_rotated_keys_tokens_work_through_the_grace_period_only(app, client):
    key = await mint(client)
    token = await exchanged(client, key["key"])
    rotated = await client.post(
        f"/internal/api-keys/{key['id']}/rotate",
        json={"gracePeriodSeconds": 1, "createdBy": "owner"},
        headers=PROVISIONING,
    )
    assert rotated.status_code == 201
    assert app.state.token_verifier.verify(token)  # within the grace period
    await verifier_refuses_within(app, token, seconds=2.5)


async def test_deleting_an_organization_revokes_its_keys_and_their_tokens(app, client):
    organization = f"org-{uuid.uuid4()}"
    key, other = await mint(client, organization), await mint(client)
    token, other_token = await exchanged(client, key["key"]), await exchanged(client, other["key"])
    await app.state.outbox_relay.publisher.publish(
        event_of(OrganizationDeleted(organization_id=organization))
    )
    await verifier_refuses_within(app, token)
    assert app.state.token_verifier.verify(other_token)

    async def key_refused() -> bool:
        response = await client.post(
            "/internal/api-keys/exchange", json={"apiKey": key["key"]}, headers=GATEWAY
        )
        return response.status_code == 401

    for _ in range(100):
        if await key_refused():
            break
        await asyncio.sleep(0.05)
    assert await key_refused()


async def test_the_list_a_starting_service_reads(client):
    user = await register(client)
    admin = await admin_token(client)
    await client.patch(
        f"/api/auth/users/{user['user']['id']}", json={"disabled": True}, headers=bearer(admin)
    )
    key = await mint(client)
    await client.delete(f"/internal/api-keys/{key['id']}", headers=PROVISIONING)
    listed = await client.get("/internal/revocations", headers=GATEWAY)
    assert listed.status_code == 200
    body = listed.json()
    assert body["users"][user["user"]["id"]] == 1
    assert key["id"] in body["keys"]
    as_user = await client.get("/internal/revocations", headers=bearer(user["accessToken"]))
    assert as_user.status_code == 401  # disabled, so no longer a valid token at all
    anonymous = await client.get("/internal/revocations")
    assert anonymous.status_code == 401
