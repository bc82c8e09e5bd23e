"""Whole journeys (issue 5), each run through the gateway and again straight to the services
(the `entry` fixture): what one user, one admin and one team do, checked end to end."""

import time
import uuid
from decimal import Decimal

import openai
import pytest
from helpers import (
    GATEWAY_URL,
    bearer,
    exchange_key,
    owner_url,
    sse_events,
    stream_observed,
    tokens_for,
)

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET = "anthropic.claude-3-sonnet-20240229-v1:0"
TITAN = "amazon.titan-text-express-v1"


def eventually(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def credits(entry, headers) -> Decimal:
    response = entry.get("/api/credits/balance", headers=headers)
    assert response.status_code == 200, response.text
    return Decimal(str(response.json()["totalCredits"]))


def usage_credits(entry, headers, path="/api/usage/stats") -> Decimal:
    response = entry.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return Decimal(str(response.json()["totals"]["credits"]))


def test_journey_1_funded_user_streams_twice_under_observation(entry, auth):
    admin = bearer(tokens_for(auth, "admin")["accessToken"])
    user = bearer(tokens_for(auth, "user1")["accessToken"])
    supervisor = bearer(tokens_for(auth, "supervisor1")["accessToken"])
    granted = entry.post(
        "/api/credits/allocate", json={"targetUserId": "user1", "credits": 1000}, headers=admin
    )
    assert granted.status_code == 201, granted.text
    before = credits(entry, user)
    usage_before = usage_credits(entry, user)
    system_before = usage_credits(entry, admin, "/api/usage/system-stats")

    created = entry.post("/api/chat/sessions", json={"modelId": HAIKU}, headers=user)
    assert created.status_code == 201, created.text
    session = created.json()["sessionId"]
    cost = Decimal(0)
    for prompt in (
        "What is a ledger? [[sim:tokens-per-second=200]]",
        "And a hold? [[sim:tokens-per-second=200]]",
    ):
        events, observed = stream_observed(entry, session, user, supervisor, prompt)
        names = [e for e, _, _ in events]
        assert names[0] == "model" and names[-1] == "complete", names
        answer = "".join(d["content"] for e, d, _ in events if e == "chunk")
        assert observed[0][0] == "observer"
        seen = observed[0][1]["partialResponse"] + "".join(
            d["content"] for e, d in observed[1:] if e == "chunk"
        )
        assert seen == answer
        cost += Decimal(str(events[-1][1]["creditsUsed"]))
    assert cost > 0
    assert before - credits(entry, user) == cost
    assert eventually(lambda: usage_credits(entry, user) - usage_before == cost)
    assert eventually(
        lambda: usage_credits(entry, admin, "/api/usage/system-stats") - system_before >= cost
    )
    detail = entry.get(f"/api/chat/sessions/{session}", headers=user).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"] * 2
    assert entry.delete(f"/api/chat/sessions/{session}", headers=user).status_code == 200
    assert entry.get(f"/api/chat/sessions/{session}", headers=user).status_code == 404


def test_journey_2_a_new_user_chats_at_once_on_the_default_plan(entry):
    name = f"e2e{uuid.uuid4().hex[:12]}"
    registered = entry.post(
        "/api/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": "E2e-Passw0rd!"},
    )
    assert registered.status_code == 201, registered.text
    user = bearer(registered.json()["accessToken"])
    # The grant travels over the bus (user.registered → provisioning → accounting).
    assert eventually(lambda: credits(entry, user) > 0), "no default-plan grant arrived"
    grant = credits(entry, user)
    created = entry.post(
        "/api/chat/sessions",
        json={"modelId": HAIKU, "initialMessage": "Hello, I just signed up"},
        headers=user,
    )
    assert created.status_code == 201, created.text
    with entry.stream(
        "POST",
        f"/api/chat/sessions/{created.json()['sessionId']}/stream",
        json={"message": "Tell me something"},
        headers=user,
    ) as response:
        assert response.status_code == 200, response.read()
        events = list(sse_events(response))
    assert events[-1][0] == "complete"
    assert grant - credits(entry, user) == Decimal(str(events[-1][1]["creditsUsed"])) > 0


@pytest.fixture
def team(entry, auth):
    """An organization with two model groups and a team of 100 credits, made by a new owner."""
    admin = bearer(tokens_for(auth, "admin")["accessToken"])
    owner_name = f"e2e{uuid.uuid4().hex[:12]}"
    owner = entry.post(
        "/api/auth/register",
        json={
            "username": owner_name,
            "email": f"{owner_name}@example.com",
            "password": "E2e-Passw0rd!",
        },
    )
    assert owner.status_code == 201, owner.text
    owner = bearer(owner.json()["accessToken"])
    # A team's credits come out of its owner's balance: here, the plan's grant to every new user.
    assert eventually(lambda: credits(entry, owner) >= 100)
    org = entry.post(
        "/api/organizations",
        json={"slug": f"e2e-{uuid.uuid4().hex[:10]}", "name": "E2E Org"},
        headers=owner,
    )
    assert org.status_code == 201, org.text
    groups = []
    for models in ([HAIKU], [TITAN]):
        name = f"e2e-{uuid.uuid4().hex[:8]}"
        made = entry.post("/api/model-groups", json={"name": name, "models": models}, headers=admin)
        assert made.status_code == 201, made.text
        groups.append(name)
    created = entry.post(
        "/api/teams",
        json={
            "organizationId": org.json()["id"],
            "name": "platform",
            "modelGroups": groups,
            "initialCredits": 100,
        },
        headers=owner,
    )
    assert created.status_code == 201, created.text
    assert created.json()["credits"] == 100
    key = entry.post(f"/api/teams/{created.json()['id']}/keys", json={"name": "e2e"}, headers=owner)
    assert key.status_code == 201, key.text
    return {
        "team": created.json(),
        "key": key.json()["key"],
        "keyId": key.json()["id"],
        "owner": owner,
    }


def openai_client(entry, key: str) -> openai.OpenAI:
    """Through the gateway: the team key itself. Directly: chat has no key exchange, so the
    key is exchanged at auth for the short-lived token the gateway would have used."""
    if entry.base_url and str(entry.base_url).rstrip("/") == GATEWAY_URL.rstrip("/"):
        return openai.OpenAI(base_url=f"{GATEWAY_URL}/v1", api_key=key, max_retries=0)
    token = exchange_key(key).json()["accessToken"]
    return openai.OpenAI(base_url=owner_url("/v1"), api_key=token, max_retries=0)


def test_journey_3_a_team_key_chats_through_the_openai_package(entry, team):
    owner, team_id = team["owner"], team["team"]["id"]
    client = openai_client(entry, team["key"])
    models = [m.id for m in client.models.list().data]
    assert set(models) == {HAIKU, TITAN}
    stream = client.chat.completions.create(
        model=HAIKU,
        messages=[{"role": "user", "content": "Hello from a team key"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage = [], None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        usage = chunk.usage or usage
    assert "".join(pieces) and usage is not None and usage.completion_tokens > 0
    # Priced by accounting's own calculator, from the tokens the answer reported.
    price = entry.post(
        "/api/credits/calculate",
        json={
            "modelId": HAIKU,
            "inputTokens": usage.prompt_tokens,
            "outputTokens": usage.completion_tokens,
        },
        headers=owner,
    ).json()["credits"]

    def team_credits():
        return Decimal(str(entry.get(f"/api/teams/{team_id}", headers=owner).json()["credits"]))

    assert eventually(lambda: team_credits() == 100 - Decimal(str(price)))

    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=SONNET, messages=[{"role": "user", "content": "hi"}])
    assert refused.value.status_code == 400

    revoked = entry.delete(f"/api/teams/{team_id}/keys/{team['keyId']}", headers=owner)
    assert revoked.status_code == 200, revoked.text
    if str(entry.base_url).rstrip("/") == GATEWAY_URL.rstrip("/"):
        # The gateway caches an exchanged key for a few seconds at most.
        def refused_now():
            try:
                client.models.list()
            except openai.AuthenticationError:
                return True
            return False

        assert eventually(refused_now, timeout=40), "the revoked key still works"
    else:
        exchanged = exchange_key(team["key"])
        assert exchanged.status_code == 401


def test_a_team_without_credits_gets_402(entry, auth):
    admin = bearer(tokens_for(auth, "admin")["accessToken"])
    org = entry.post(
        "/api/organizations",
        json={"slug": f"e2e-{uuid.uuid4().hex[:10]}", "name": "Broke"},
        headers=admin,
    ).json()
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    assert (
        entry.post(
            "/api/model-groups", json={"name": name, "models": [HAIKU]}, headers=admin
        ).status_code
        == 201
    )
    team = entry.post(
        "/api/teams",
        json={"organizationId": org["id"], "name": "t", "modelGroups": [name]},
        headers=admin,
    ).json()
    key = entry.post(f"/api/teams/{team['id']}/keys", json={"name": "k"}, headers=admin).json()[
        "key"
    ]
    token = exchange_key(key).json()["accessToken"]
    response = entry.post("/api/chat/sessions", json={"modelId": HAIKU}, headers=bearer(token))
    assert (response.status_code, response.json()["code"]) == (402, "insufficient_credits")
