import asyncio

from ..conftest import bearer, login, register

INVALID = {"message": "Invalid authentication token", "code": "invalid_token"}


async def refresh(client, token):
    return await client.post("/api/auth/refresh", json={"refreshToken": token})


async def test_refresh_rotates_the_pair(client):
    tokens = await register(client)
    response = await refresh(client, tokens["refreshToken"])
    assert response.status_code == 200
    pair = response.json()
    assert set(pair) == {"accessToken", "refreshToken"}
    assert pair["refreshToken"] != tokens["refreshToken"]
    me = await client.get("/api/auth/me", headers=bearer(pair["accessToken"]))
    assert me.json()["id"] == tokens["user"]["id"]


async def test_a_reused_refresh_token_is_refused_and_revokes_the_family(client):
    tokens = await register(client)
    rotated = (await refresh(client, tokens["refreshToken"])).json()
    reuse = await refresh(client, tokens["refreshToken"])
    assert reuse.status_code == 401
    assert reuse.json() == INVALID
    # The thief's reuse also kills the legitimate newer token of that family.
    assert (await refresh(client, rotated["refreshToken"])).status_code == 401


async def test_other_logins_survive_a_reuse_in_another_family(client):
    tokens = await register(client)
    second = (await login(client, tokens["user"]["username"], "Str0ng-pass!")).json()
    await refresh(client, tokens["refreshToken"])
    await refresh(client, tokens["refreshToken"])
    assert (await refresh(client, second["refreshToken"])).status_code == 200


async def test_concurrent_refreshes_of_one_token_yield_at_most_one_pair(client):
    tokens = await register(client)
    responses = await asyncio.gather(*(refresh(client, tokens["refreshToken"]) for _ in range(5)))
    assert [r.status_code for r in responses].count(200) <= 1
    assert all(r.status_code in (200, 401) for r in responses)


async def test_an_access_token_is_not_a_refresh_token(client):
    tokens = await register(client)
    response = await refresh(client, tokens["accessToken"])
    assert response.status_code == 401
    assert response.json() == INVALID


async def test_logout_revokes_the_family(client):
    tokens = await register(client)
    response = await client.post(
        "/api/auth/logout",
        json={"refreshToken": tokens["refreshToken"]},
        headers=bearer(tokens["accessToken"]),
    )
    assert response.status_code == 204
    assert (await refresh(client, tokens["refreshToken"])).status_code == 401


async def test_logout_needs_authentication_and_the_callers_own_token(client):
    mine, theirs = await register(client), await register(client)
    anonymous = await client.post("/api/auth/logout", json={"refreshToken": mine["refreshToken"]})
    assert anonymous.status_code == 401
    foreign = await client.post(
        "/api/auth/logout",
        json={"refreshToken": theirs["refreshToken"]},
        headers=bearer(mine["accessToken"]),
    )
    assert foreign.status_code == 401
    assert (await refresh(client, theirs["refreshToken"])).status_code == 200


async def test_tampered_access_token_is_401_with_the_contract_body(client):
    tokens = await register(client)
    token = tokens["accessToken"]
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    response = await client.get("/api/auth/me", headers=bearer(tampered))
    assert response.status_code == 401
    assert response.json() == INVALID
