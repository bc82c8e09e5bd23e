"""A user's personal API key, the chain peers report broken: create → authenticate → infer →
deduct → usage → revoke, through the gateway with the OpenAI package (issue 14)."""

import time
import uuid
from decimal import Decimal

import httpx
import openai
from helpers import CHAT_URL, GATEWAY_URL, bearer, exchange_key, tokens_for

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
RPM = 4


def eventually(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def registered(gateway: httpx.Client) -> dict[str, str]:
    name = f"e2e{uuid.uuid4().hex[:12]}"
    response = gateway.post(
        "/api/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": "E2e-Passw0rd!"},
    )
    assert response.status_code == 201, response.text
    return bearer(response.json()["accessToken"])


def balance(gateway: httpx.Client, user: dict[str, str]) -> Decimal:
    response = gateway.get("/api/credits/balance", headers=user)
    assert response.status_code == 200, response.text
    return Decimal(str(response.json()["totalCredits"]))


def test_a_personal_key_chats_as_its_owner_is_charged_limited_and_revoked(gateway):
    user = registered(gateway)
    assert eventually(lambda: balance(gateway, user) > 0), "no default-plan grant arrived"
    created = gateway.post(
        "/api/auth/api-keys",
        json={"name": "laptop", "models": [HAIKU], "requestsPerMinute": RPM},
        headers=user,
    )
    assert created.status_code == 201, created.text
    key = created.json()
    listed = gateway.get("/api/auth/api-keys", headers=user).json()
    assert [k["id"] for k in listed["keys"]] == [key["id"]]
    assert "key" not in listed["keys"][0]  # the secret is shown once only
    # Another user neither sees nor revokes it.
    stranger = registered(gateway)
    assert gateway.get("/api/auth/api-keys", headers=stranger).json()["keys"] == []
    assert gateway.delete(f"/api/auth/api-keys/{key['id']}", headers=stranger).status_code == 404

    before = balance(gateway, user)
    client = openai.OpenAI(base_url=f"{GATEWAY_URL}/v1", api_key=key["key"], max_retries=0)
    assert [m.id for m in client.models.list().data] == [HAIKU]  # the key's own models
    answer = client.chat.completions.create(
        model=HAIKU, messages=[{"role": "user", "content": "Hello from my own key"}]
    )
    assert answer.choices[0].message.content and answer.usage is not None
    price = gateway.post(
        "/api/credits/calculate",
        json={
            "modelId": HAIKU,
            "inputTokens": answer.usage.prompt_tokens,
            "outputTokens": answer.usage.completion_tokens,
        },
        headers=user,
    ).json()["credits"]
    # Charged to its owner, by what chat measured.
    assert eventually(lambda: before - balance(gateway, user) == Decimal(str(price)))

    # The key's own requestsPerMinute, at the gateway, for a key of its own (the gateway's
    # window is the wall-clock minute: the burst starts well inside one).
    limited = gateway.post(
        "/api/auth/api-keys", json={"name": "limited", "requestsPerMinute": RPM}, headers=user
    ).json()
    burst = openai.OpenAI(base_url=f"{GATEWAY_URL}/v1", api_key=limited["key"], max_retries=0)
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)
    outcomes = []
    for _ in range(RPM + 2):
        try:
            burst.models.list()
            outcomes.append(200)
        except openai.RateLimitError as refused:
            assert refused.response.headers.get("Retry-After")
            outcomes.append(429)
    assert outcomes == [200] * RPM + [429, 429]

    issued = bearer(exchange_key(key["key"]).json()["accessToken"])
    assert gateway.get("/api/credits/balance", headers=issued).status_code == 200
    revoked = gateway.delete(f"/api/auth/api-keys/{key['id']}", headers=user)
    assert revoked.status_code == 200, revoked.text
    assert exchange_key(key["key"]).status_code == 401
    # A token it was already traded for is refused within a second (api_key.revoked).
    assert eventually(
        lambda: gateway.get("/api/credits/balance", headers=issued).status_code == 401,
        timeout=1.0,
    )
    assert [k["id"] for k in gateway.get("/api/auth/api-keys", headers=user).json()["keys"]] == [
        limited["id"]
    ]


def test_an_admins_personal_key_has_no_admin_powers(gateway, auth):
    admin = bearer(tokens_for(auth, "admin")["accessToken"])
    created = gateway.post("/api/auth/api-keys", json={"name": "admin's"}, headers=admin)
    assert created.status_code == 201, created.text
    key = created.json()
    try:
        token = exchange_key(key["key"]).json()["accessToken"]
        assert gateway.get("/api/auth/users", headers=bearer(token)).status_code == 403
        assert gateway.get("/api/auth/users", headers=bearer(key["key"])).status_code == 403
        # Nor does a key mint more keys.
        minted = gateway.post("/api/auth/api-keys", json={"name": "x"}, headers=bearer(token))
        assert minted.status_code == 403
    finally:
        gateway.delete(f"/api/auth/api-keys/{key['id']}", headers=admin)


def test_a_keys_tokens_per_minute_refuses_its_next_answer_at_chat(gateway):
    """Counted where tokens are measured: through the gateway and on chat's own port alike."""
    user = registered(gateway)
    assert eventually(lambda: balance(gateway, user) > 0), "no default-plan grant arrived"
    created = gateway.post(
        "/api/auth/api-keys", json={"name": "tpm", "tokensPerMinute": 5}, headers=user
    )
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["tokensPerMinute"] == 5
    if time.time() % 60 > 45:  # one answer and the next request in the same minute
        time.sleep(61 - time.time() % 60)
    client = openai.OpenAI(base_url=f"{GATEWAY_URL}/v1", api_key=key["key"], max_retries=0)
    answer = client.chat.completions.create(
        model=HAIKU, messages=[{"role": "user", "content": "Tell me a long story"}]
    )
    assert answer.usage is not None and answer.usage.total_tokens > 5
    try:
        client.chat.completions.create(model=HAIKU, messages=[{"role": "user", "content": "more"}])
        raise AssertionError("a key past its tokens per minute got another answer")
    except openai.RateLimitError as refused:
        assert refused.response.headers.get("Retry-After")
        assert refused.body["code"] == "rate_limited"
    token = exchange_key(key["key"]).json()["accessToken"]
    direct = openai.OpenAI(base_url=f"{CHAT_URL}/v1", api_key=token, max_retries=0)
    try:
        direct.chat.completions.create(model=HAIKU, messages=[{"role": "user", "content": "hi"}])
        raise AssertionError("chat's own port let the key past its tokens per minute")
    except openai.RateLimitError:
        pass
    gateway.delete(f"/api/auth/api-keys/{key['id']}", headers=user)
