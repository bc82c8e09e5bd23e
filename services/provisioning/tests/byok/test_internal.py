"""/internal/byok/credentials: the decrypted credential, to chat only (byok:read)."""

from ..conftest import bearer, new_user, service_headers
from .conftest import GOOD_KEY, store, team_of

CHAT = service_headers("chat")


async def lookup(api, headers, **params):
    return await api.get("/internal/byok/credentials", params=params, headers=headers)


async def test_chat_gets_the_newest_decrypted_credential_of_the_user(api, auth, byok, simulator):
    user = await new_user(auth)
    await store(api, user["headers"], label="old", credentials={"apiKey": "sk-sim-older-key"})
    newest = (await store(api, user["headers"], label="new")).json()
    response = await lookup(api, CHAT, userId=user["id"], provider=["openai", "openai-compatible"])
    assert response.status_code == 200, response.text
    credential = response.json()["credential"]
    assert (credential["id"], credential["apiKey"], credential["baseUrl"]) == (
        newest["id"],
        GOOD_KEY,
        simulator,
    )
    none = await lookup(api, CHAT, userId=user["id"], provider="bedrock")
    assert none.json() == {"credential": None}


async def test_a_teams_lookup_gets_the_teams_credential_never_a_members_own(api, auth, byok):
    team = await team_of(api, auth)
    owner = team["owner"]
    await store(api, owner["headers"], credentials={"apiKey": "sk-sim-owners-own"})
    params = {"userId": owner["id"], "teamId": team["id"], "provider": "openai"}
    assert (await lookup(api, CHAT, **params)).json() == {"credential": None}
    team_key = (await store(api, owner["headers"], teamId=team["id"])).json()
    assert (await lookup(api, CHAT, **params)).json()["credential"]["id"] == team_key["id"]


async def test_a_deleted_credential_is_no_longer_handed_out(api, auth, byok):
    user = await new_user(auth)
    key = (await store(api, user["headers"])).json()
    await api.delete(f"/api/byok/keys/{key['id']}", headers=user["headers"])
    response = await lookup(api, CHAT, userId=user["id"], provider="openai")
    assert response.json() == {"credential": None}


async def test_only_a_service_with_byok_read_may_ask(api, auth, byok):
    user = await new_user(auth)
    await store(api, user["headers"])
    for headers, code in (
        (service_headers("provisioning"), "insufficient_scope"),
        (user["headers"], "service_only"),
    ):
        response = await lookup(api, headers, userId=user["id"], provider="openai")
        assert response.status_code == 403, response.text
        assert response.json()["code"] == code
        assert GOOD_KEY not in response.text
    assert (
        await lookup(api, bearer("nope"), userId=user["id"], provider="openai")
    ).status_code == 401
    bad = await lookup(api, CHAT, userId=user["id"], provider="nope")
    assert bad.status_code == 422
