"""Retries that never double-charge (issue 14): an allocation, a team's funding, a chat session
and a streamed answer sent twice through the gateway with one Idempotency-Key happen once and
answer the first response again."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
from helpers import bearer, new_user, onboarded_user, sse_events, tokens_for

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


def total_credits(gateway: httpx.Client, token: str) -> Decimal:
    response = gateway.get("/api/credits/balance", headers=bearer(token))
    assert response.status_code == 200, response.text
    return Decimal(str(response.json()["totalCredits"]))


def allocate(gateway: httpx.Client, admin: str, body: dict, key: str) -> httpx.Response:
    headers = {**bearer(admin), "Idempotency-Key": key}
    return gateway.post("/api/credits/allocate", json=body, headers=headers)


def test_the_same_key_twice_allocates_once_and_replays_the_answer(gateway):
    admin = tokens_for(gateway, "admin")["accessToken"]
    # Once the plan's grant is on the balance, so nothing else arrives while we measure.
    user = onboarded_user(gateway)
    token = user["accessToken"]
    key = str(uuid.uuid4())
    body = {"targetUserId": user["user"]["id"], "credits": 42, "notes": "e2e idempotency"}
    before = total_credits(gateway, token)

    first = allocate(gateway, admin, body, key)
    assert first.status_code == 201, first.text
    second = allocate(gateway, admin, body, key)
    assert second.status_code == 201, second.text
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers

    allocated = [
        a
        for a in gateway.get("/api/credits/balance", headers=bearer(token)).json()[
            "activeAllocations"
        ]
        if a.get("notes") == "e2e idempotency"
    ]
    assert len(allocated) == 1
    assert allocated[0]["id"] == first.json()["id"]
    assert total_credits(gateway, token) - before == 42


def test_the_same_key_with_another_body_is_422_and_moves_nothing(gateway):
    admin = tokens_for(gateway, "admin")["accessToken"]
    user = new_user(gateway)
    key = str(uuid.uuid4())
    body = {"targetUserId": user["user"]["id"], "credits": 7, "notes": "e2e reused key"}
    assert allocate(gateway, admin, body, key).status_code == 201
    reused = allocate(gateway, admin, {**body, "credits": 8}, key)
    assert reused.status_code == 422, reused.text
    assert reused.json()["code"] == "idempotency_key_reused"
    notes = [
        a["notes"]
        for a in gateway.get("/api/credits/balance", headers=bearer(user["accessToken"])).json()[
            "activeAllocations"
        ]
    ]
    assert notes.count("e2e reused key") == 1


def funded_team(gateway: httpx.Client) -> tuple[dict, dict]:
    """(an onboarded owner's headers and balance, their new unfunded team)."""
    admin = bearer(tokens_for(gateway, "admin")["accessToken"])
    owner = onboarded_user(gateway)
    headers = bearer(owner["accessToken"])
    org = gateway.post(
        "/api/organizations",
        json={"slug": f"e2e-{uuid.uuid4().hex[:10]}", "name": "Idempotent"},
        headers=headers,
    )
    assert org.status_code == 201, org.text
    group = f"e2e-{uuid.uuid4().hex[:8]}"
    made = gateway.post("/api/model-groups", json={"name": group, "models": [HAIKU]}, headers=admin)
    assert made.status_code == 201, made.text
    team = gateway.post(
        "/api/teams",
        json={"organizationId": org.json()["id"], "name": "keyed", "modelGroups": [group]},
        headers=headers,
    )
    assert team.status_code == 201, team.text
    return {"headers": headers, "token": owner["accessToken"]}, team.json()


def test_a_team_is_funded_once_per_key_even_when_retried_at_once(gateway):
    owner, team = funded_team(gateway)
    before = total_credits(gateway, owner["token"])
    headers = {**owner["headers"], "Idempotency-Key": str(uuid.uuid4())}

    def fund() -> httpx.Response:
        return gateway.post(
            f"/api/teams/{team['id']}/credits", json={"credits": 2}, headers=headers
        )

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: fund(), range(4)))
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 3
    assert before - total_credits(gateway, owner["token"]) == 2
    read = gateway.get(f"/api/teams/{team['id']}", headers=owner["headers"])
    assert read.json()["credits"] == 2
    reused = gateway.post(f"/api/teams/{team['id']}/credits", json={"credits": 3}, headers=headers)
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    assert before - total_credits(gateway, owner["token"]) == 2


def test_a_chat_session_and_its_streamed_answer_happen_once_per_key(gateway):
    user = onboarded_user(gateway)
    headers = bearer(user["accessToken"])
    session_key = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    body = {"title": "e2e idempotency", "modelId": HAIKU}
    first = gateway.post("/api/chat/sessions", json=body, headers=session_key)
    again = gateway.post("/api/chat/sessions", json=body, headers=session_key)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    listed = gateway.get("/api/chat/sessions", headers=headers).json()["sessions"]
    assert [s["sessionId"] for s in listed].count(first.json()["sessionId"]) == 1
    assert len([s for s in listed if s["title"] == "e2e idempotency"]) == 1

    path = f"/api/chat/sessions/{first.json()['sessionId']}/stream"
    answer_key = {**headers, "Idempotency-Key": str(uuid.uuid4())}

    def streamed() -> tuple[httpx.Headers, list[tuple[str, dict, str | None]]]:
        with gateway.stream("POST", path, json={"message": "Hi"}, headers=answer_key) as response:
            assert response.status_code == 200, response.read()
            return response.headers, list(sse_events(response))

    _, events = streamed()
    assert events[-1][0] == "complete", events[-1]
    after_one = total_credits(gateway, user["accessToken"])
    replay_headers, replayed = streamed()
    assert replay_headers["idempotent-replayed"] == "true"
    assert [e[2] for e in replayed] == [e[2] for e in events]
    assert total_credits(gateway, user["accessToken"]) == after_one
    messages = gateway.get(
        f"/api/chat/sessions/{first.json()['sessionId']}/messages", headers=headers
    ).json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]


def test_a_team_key_is_minted_once_per_key_even_when_retried_at_once(gateway):
    owner, team = funded_team(gateway)
    keys = f"/api/teams/{team['id']}/keys"
    headers = {**owner["headers"], "Idempotency-Key": str(uuid.uuid4())}
    with ThreadPoolExecutor(3) as pool:
        answers = list(
            pool.map(lambda _: gateway.post(keys, json={"name": "ci"}, headers=headers), range(3))
        )
    assert [a.status_code for a in answers] == [201] * 3, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    listed = gateway.get(keys, headers=owner["headers"]).json()["keys"]
    assert [k["id"] for k in listed] == [answers[0].json()["id"]]


def test_an_openai_completion_is_answered_and_charged_once_per_key(gateway):
    user = onboarded_user(gateway)
    token = user["accessToken"]
    headers = {**bearer(token), "Idempotency-Key": str(uuid.uuid4())}
    body = {"model": HAIKU, "messages": [{"role": "user", "content": "Once, please"}]}

    def complete() -> httpx.Response:
        return gateway.post("/v1/chat/completions", json=body, headers=headers)

    before = total_credits(gateway, token)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: complete(), range(2)))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert answers[0].content == answers[1].content
    charged = before - total_credits(gateway, token)
    assert charged > 0
    again = complete()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == answers[0].content
    assert before - total_credits(gateway, token) == charged

    streamed_key = {**bearer(token), "Idempotency-Key": str(uuid.uuid4())}

    def streamed() -> tuple[httpx.Headers, list[str]]:
        with gateway.stream(
            "POST", "/v1/chat/completions", json={**body, "stream": True}, headers=streamed_key
        ) as response:
            assert response.status_code == 200, response.read()
            lines = response.read().decode().splitlines()
        return response.headers, [line for line in lines if line.startswith("data: ")]

    first_headers, first_chunks = streamed()
    assert "idempotent-replayed" not in first_headers
    assert first_chunks[-1] == "data: [DONE]"
    after_stream = total_credits(gateway, token)
    assert before - after_stream > charged  # the stream's own answer
    replay_headers, replayed_chunks = streamed()
    assert replay_headers["idempotent-replayed"] == "true"
    assert replayed_chunks == first_chunks  # from the resume log: the very chunks
    assert total_credits(gateway, token) == after_stream
