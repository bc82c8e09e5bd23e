"""Usage you can take away (issue 14): a user streams answers through the gateway and makes one
with a personal key, then exports their usage as CSV and as JSON; both add up to their usage
statistics and to what left their balance, and the key's rows to the key's spend."""

import csv
import io
import json
import time
from decimal import Decimal

import httpx
from helpers import bearer, onboarded_user, sse_events, tokens_for

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
COLUMNS = "period,userId,teamId,keyId,modelId,requests,inputTokens,outputTokens,credits"


def eventually(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def balance(gateway: httpx.Client, user: dict[str, str]) -> Decimal:
    response = gateway.get("/api/credits/balance", headers=user)
    assert response.status_code == 200, response.text
    return Decimal(str(response.json()["totalCredits"]))


def stream_answer(gateway: httpx.Client, user: dict[str, str], session: str, prompt: str) -> dict:
    with gateway.stream(
        "POST", f"/api/chat/sessions/{session}/stream", json={"message": prompt}, headers=user
    ) as response:
        assert response.status_code == 200, response.read()
        events = list(sse_events(response))
    assert events[-1][0] == "complete", events[-1]
    return events[-1][1]


def totals(rows: list[dict]) -> tuple[Decimal, int, int, int]:
    return (
        sum((Decimal(str(r["credits"])) for r in rows), Decimal(0)),
        sum(int(r["requests"]) for r in rows),
        sum(int(r["inputTokens"]) for r in rows),
        sum(int(r["outputTokens"]) for r in rows),
    )


def test_a_users_export_adds_up_to_their_stats_and_their_balance(gateway, auth):
    registered = onboarded_user(gateway)
    user = bearer(registered["accessToken"])
    user_id = registered["user"]["id"]
    admin = bearer(tokens_for(auth, "admin")["accessToken"])
    funded = gateway.post(
        "/api/credits/allocate",
        json={"targetUserId": user_id, "credits": 20},
        headers=admin,
    )
    assert funded.status_code == 201, funded.text
    before = balance(gateway, user)

    session = gateway.post("/api/chat/sessions", json={"modelId": HAIKU}, headers=user)
    assert session.status_code == 201, session.text
    session_id = session.json()["sessionId"]
    streamed = [
        stream_answer(gateway, user, session_id, "Tell me about exports"),
        stream_answer(gateway, user, session_id, "And about ledgers [[sim:tokens-per-second=200]]"),
    ]
    key = gateway.post("/api/auth/api-keys", json={"name": "export"}, headers=user).json()
    completion = gateway.post(
        "/v1/chat/completions",
        json={"model": HAIKU, "messages": [{"role": "user", "content": "Hi from my key"}]},
        headers=bearer(key["key"]),
    )
    assert completion.status_code == 200, completion.text

    def stats_of() -> dict:
        return gateway.get("/api/usage/stats", headers=user).json()

    assert eventually(lambda: stats_of()["totals"]["requests"] == 3), stats_of()
    after = balance(gateway, user)

    as_csv = gateway.get("/api/usage/export", params={"groupBy": "day,model,key"}, headers=user)
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.text.split("\r\n")[0] == COLUMNS
    csv_rows = list(csv.DictReader(io.StringIO(as_csv.text, newline="")))
    as_json = gateway.get(
        "/api/usage/export", params={"groupBy": "model,key", "format": "json"}, headers=user
    )
    assert as_json.status_code == 200, as_json.text
    assert as_json.headers["content-type"] == "application/json"
    json_rows = json.loads(as_json.text, parse_float=Decimal)

    stats = stats_of()
    from_stats = (
        Decimal(str(stats["totals"]["credits"])),
        stats["totals"]["requests"],
        stats["totals"]["inputTokens"],
        stats["totals"]["outputTokens"],
    )
    assert totals(csv_rows) == totals(json_rows) == from_stats
    assert from_stats[0] == before - after > 0
    streamed_credits = sum(Decimal(str(c["creditsUsed"])) for c in streamed)
    assert {r["userId"] for r in csv_rows + json_rows} == {user_id}

    # The key's own row is the key's spend; the rest is what was streamed with the session.
    (keyed,) = [r for r in json_rows if r["keyId"] == key["id"]]
    (key_stats,) = stats["byKey"]
    assert (keyed["credits"], keyed["requests"]) == (
        Decimal(str(key_stats["credits"])),
        key_stats["requests"],
    )
    assert totals([r for r in json_rows if r["keyId"] is None])[0] == streamed_credits

    # Nobody else exports this user's usage; a supervisor does.
    stranger = bearer(onboarded_user(gateway)["accessToken"])
    refused = gateway.get("/api/usage/export", params={"userId": user_id}, headers=stranger)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    supervisor = bearer(tokens_for(auth, "supervisor1")["accessToken"])
    watched = gateway.get(
        "/api/usage/export",
        params={"userId": registered["user"]["username"], "format": "json", "groupBy": ""},
        headers=supervisor,
    )
    assert watched.status_code == 200, watched.text
    assert totals(json.loads(watched.text, parse_float=Decimal)) == from_stats
