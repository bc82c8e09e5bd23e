import httpx

from jwt_contract import JwksKeySet, TokenVerifier

from ..conftest import login


async def test_other_services_verify_tokens_with_the_published_keys(app, client, settings):
    jwks = await client.get("/api/auth/.well-known/jwks.json")
    assert jwks.status_code == 200
    keys = jwks.json()["keys"]
    assert keys and all("d" not in key and "p" not in key for key in keys)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://auth")
    key_set = JwksKeySet("http://auth/api/auth/.well-known/jwks.json", client=http)
    verifier = TokenVerifier(key_set, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    token = (await login(client, "user1", "User1@123")).json()["accessToken"]
    principal = await verifier.verify_async(token)
    assert principal.username == "user1"
    assert principal.user_id != "user1"
    await key_set.aclose()
