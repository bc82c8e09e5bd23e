import pytest
from helpers import DEMO_USERS, bearer, login, new_user, tokens_for

INVALID = {"message": "Invalid authentication token", "code": "invalid_token"}


@pytest.mark.parametrize("username", sorted(DEMO_USERS))
def test_every_demo_user_logs_in(auth, username):
    body = tokens_for(auth, username)
    assert body["accessToken"] and body["refreshToken"]
    assert body["user"]["username"] == username
    assert body["user"]["role"] == DEMO_USERS[username][1]
    me = auth.get("/api/auth/me", headers=bearer(body["accessToken"]))
    assert me.status_code == 200
    assert me.json() == body["user"]


def test_refresh_works_and_a_reused_refresh_token_is_refused(auth):
    first = tokens_for(auth, "user1")
    rotated = auth.post("/api/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert rotated.status_code == 200
    assert (
        auth.get("/api/auth/me", headers=bearer(rotated.json()["accessToken"])).status_code == 200
    )
    reused = auth.post("/api/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert reused.status_code == 401
    assert reused.json() == INVALID


def test_a_tampered_token_is_refused_with_the_contract_body(auth):
    token = tokens_for(auth, "user1")["accessToken"]
    for position in (10, len(token) // 2, len(token) - 1):
        swapped = "A" if token[position] != "A" else "B"
        tampered = token[:position] + swapped + token[position + 1 :]
        response = auth.get("/api/auth/me", headers=bearer(tampered))
        assert response.status_code == 401, position
        assert response.json() == INVALID


def test_an_enduser_gets_403_on_admin_routes(auth):
    token = tokens_for(auth, "user1")["accessToken"]
    listing = auth.get("/api/auth/users", headers=bearer(token))
    change = auth.patch(
        "/api/auth/users/00000000-0000-4000-8000-000000000000",
        json={"role": "admin"},
        headers=bearer(token),
    )
    assert listing.status_code == change.status_code == 403


def test_admin_lists_users(auth):
    token = tokens_for(auth, "admin")["accessToken"]
    response = auth.get("/api/auth/users?limit=100", headers=bearer(token))
    assert response.status_code == 200
    assert set(DEMO_USERS) <= {u["username"] for u in response.json()["users"]}


def test_twenty_wrong_passwords_end_in_429(auth):
    user = new_user(auth)
    name = user["user"]["username"]
    statuses = [login(auth, name, "Wrong-passw0rd!").status_code for _ in range(20)]
    assert statuses[0] == 401
    assert statuses[-1] == 429
    last = login(auth, name, "Wrong-passw0rd!")
    assert int(last.headers["Retry-After"]) > 0


def test_jwks_publishes_public_keys_only(auth):
    keys = auth.get("/api/auth/.well-known/jwks.json").json()["keys"]
    assert keys
    for key in keys:
        assert key["kid"] and key["alg"] in ("RS256", "EdDSA")
        assert not {"d", "p", "q", "dp", "dq", "qi"} & key.keys()


def test_errors_use_the_envelope_and_every_response_has_a_request_id(auth):
    missing = auth.get("/api/auth/nowhere", headers={"X-Request-ID": "e2e-req-1"})
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert missing.headers["x-request-id"] == "e2e-req-1"
    bad = auth.post(
        "/api/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad.status_code == 422
    assert set(bad.json()) >= {"message", "code"}


def test_health_readiness_and_metrics(auth):
    assert auth.get("/api/health").json() == {"status": "ok", "service": "auth"}
    assert auth.get("/api/health/ready").status_code == 200
    metrics = auth.get("/metrics").text
    assert 'http_requests_total{method="POST",route="/api/auth/login"' in metrics
