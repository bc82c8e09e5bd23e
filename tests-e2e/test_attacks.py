"""The attacks of the billing-integrity issue, run as an attacker would: through the gateway and
straight at each service's port, with the ledger checked afterwards.

1. Free answers: a user streams an answer, takes its streamingSessionId from the `model` event
   and settles it themselves for 0 tokens (finalize or abort). Before: 200, `creditsUsed: 0`.
2. Credits from nothing: a fresh user creates an organization (so owns it) and a team with
   `initialCredits: 999999`. Before: 201, the team funded from nothing, without limit.
"""

import shutil
import subprocess
import uuid
from decimal import Decimal

import httpx
import pytest
from helpers import ACCOUNTING_URL, bearer, onboarded_user, sse_events, tokens_for

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
LEDGER_DB = "postgresql://postgres@127.0.0.1:5432/accounting"


def available(entry, headers) -> Decimal:
    body = entry.get("/api/credits/balance", headers=headers).json()
    return Decimal(str(body["availableCredits"])) + Decimal(str(body["reservedCredits"]))


def ledger_is_clean() -> None:
    """`make ledger-check`: every balance equals the sum of its ledger entries."""
    command = shutil.which("ledger-check")
    if command is None:
        pytest.fail("ledger-check is not installed (uv sync --all-packages)")
    result = subprocess.run([command, LEDGER_DB], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("settle", ["finalize", "abort"])
def test_a_user_cannot_settle_their_own_answer_for_nothing(entry, auth, settle):
    admin = bearer(tokens_for(auth, "admin")["accessToken"])
    user = onboarded_user(entry)
    headers = bearer(user["accessToken"])
    granted = entry.post(
        "/api/credits/allocate",
        json={"targetUserId": user["user"]["username"], "credits": 50},
        headers=admin,
    )
    assert granted.status_code == 201, granted.text
    session = entry.post("/api/chat/sessions", json={"modelId": HAIKU}, headers=headers)
    assert session.status_code == 201, session.text
    before = available(entry, headers)
    attacks = []
    with entry.stream(
        "POST",
        f"/api/chat/sessions/{session.json()['sessionId']}/stream",
        json={"message": "Count slowly [[sim:tokens-per-second=40]] [[sim:answer-tokens=40]]"},
        headers=headers,
    ) as response:
        assert response.status_code == 200
        events = []
        for event in sse_events(response):
            events.append(event)
            if event[0] == "model":
                stolen = event[1]["streamingSessionId"]
                body = {"streamingSessionId": stolen, "actualTokens": 0, "success": True}
                # Through the entry under test, and straight at accounting's own port.
                attacks.append(
                    entry.post(f"/api/streaming-sessions/{settle}", json=body, headers=headers)
                )
                attacks.append(
                    httpx.post(
                        f"{ACCOUNTING_URL}/api/streaming-sessions/{settle}",
                        json=body,
                        headers=headers,
                    )
                )
    for attack in attacks:
        assert (attack.status_code, attack.json()["code"]) == (403, "service_only"), attack.text
    complete = events[-1]
    assert complete[0] == "complete", events[-5:]
    charged = Decimal(str(complete[1]["creditsUsed"]))
    assert charged > 0
    assert complete[1]["outputTokens"] == 40
    assert before - available(entry, headers) == charged
    assert entry.get("/api/credits/balance", headers=headers).json()["reservedCredits"] == 0
    ledger_is_clean()


def test_an_org_owner_cannot_fund_a_team_from_nothing(entry, auth):
    owner = onboarded_user(entry)
    headers = bearer(owner["accessToken"])
    before = available(entry, headers)
    org = entry.post(
        "/api/organizations",
        json={"slug": f"e2e-{uuid.uuid4().hex[:10]}", "name": "Mint"},
        headers=headers,
    )
    assert org.status_code == 201, org.text
    admin = bearer(tokens_for(auth, "admin")["accessToken"])
    group = f"e2e-{uuid.uuid4().hex[:8]}"
    assert (
        entry.post(
            "/api/model-groups", json={"name": group, "models": [HAIKU]}, headers=admin
        ).status_code
        == 201
    )
    for _ in range(2):  # it used to be repeatable without limit
        minted = entry.post(
            "/api/teams",
            json={
                "organizationId": org.json()["id"],
                "name": f"t-{uuid.uuid4().hex[:6]}",
                "modelGroups": [group],
                "initialCredits": 999999,
            },
            headers=headers,
        )
        assert (minted.status_code, minted.json()["code"]) == (402, "insufficient_credits")
    teams = entry.get("/api/teams", params={"organizationId": org.json()["id"]}, headers=headers)
    assert teams.status_code == 200
    assert teams.json()["teams"] == []
    # The owner's own credits (their plan's grant, if it has arrived) are untouched.
    assert available(entry, headers) >= before
    grant = httpx.post(
        f"{ACCOUNTING_URL}/internal/grants",
        json={
            "ownerType": "user",
            "ownerId": owner["user"]["id"],
            "credits": 999999,
            "idempotencyKey": f"mint-{uuid.uuid4()}",
            "grantedBy": owner["user"]["id"],
        },
        headers=headers,
    )
    assert (grant.status_code, grant.json()["code"]) == (403, "service_only")
    ledger_is_clean()
