"""Usage export by organization (issue 14), through the gateway: an organization's owner funds
a team, the team's key answers through /v1, and the owner exports ``?organizationId=`` and
sees the team's usage, equal to what left the team's account; a member or a stranger is 403."""

import time
import uuid
from decimal import Decimal

import httpx
from helpers import bearer, new_user, onboarded_user, tokens_for

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
TEAM_CREDITS = 10


def eventually(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def organization_with_a_team(gateway: httpx.Client, admin: dict[str, str]) -> dict:
    """An owner's organization with one funded team and its key, and a plain member."""
    owner = onboarded_user(gateway)
    owner_headers = bearer(owner["accessToken"])
    org = gateway.post(
        "/api/organizations",
        json={"slug": f"e2e-{uuid.uuid4().hex[:10]}", "name": "E2E export org"},
        headers=owner_headers,
    )
    assert org.status_code == 201, org.text
    member = new_user(gateway)
    added = gateway.post(
        f"/api/organizations/{org.json()['id']}/members",
        json={"username": member["user"]["username"], "role": "member"},
        headers=admin,
    )
    assert added.status_code == 201, added.text
    group = f"e2e-{uuid.uuid4().hex[:8]}"
    made = gateway.post("/api/model-groups", json={"name": group, "models": [HAIKU]}, headers=admin)
    assert made.status_code == 201, made.text
    team = gateway.post(
        "/api/teams",
        json={
            "organizationId": org.json()["id"],
            "name": "exports",
            "modelGroups": [group],
            "initialCredits": TEAM_CREDITS,
        },
        headers=owner_headers,
    )
    assert team.status_code == 201, team.text
    key = gateway.post(
        f"/api/teams/{team.json()['id']}/keys", json={"name": "e2e"}, headers=owner_headers
    )
    assert key.status_code == 201, key.text
    return {
        "id": org.json()["id"],
        "team": team.json(),
        "key": key.json(),
        "owner": owner_headers,
        "member": bearer(member["accessToken"]),
    }


def team_credits(gateway: httpx.Client, org: dict) -> Decimal:
    response = gateway.get(f"/api/teams/{org['team']['id']}", headers=org["owner"])
    assert response.status_code == 200, response.text
    return Decimal(str(response.json()["credits"]))


def test_an_owner_exports_the_teams_usage_and_a_member_cannot(gateway, auth):
    admin = bearer(tokens_for(auth, "admin")["accessToken"])
    org = organization_with_a_team(gateway, admin)
    answered = gateway.post(
        "/v1/chat/completions",
        json={"model": HAIKU, "messages": [{"role": "user", "content": "Hello from a team"}]},
        headers=bearer(org["key"]["key"]),
    )
    assert answered.status_code == 200, answered.text
    usage = answered.json()["usage"]
    assert eventually(lambda: team_credits(gateway, org) < TEAM_CREDITS)
    spent = TEAM_CREDITS - team_credits(gateway, org)

    def exported() -> list[dict]:
        response = gateway.get(
            "/api/usage/export",
            params={"organizationId": org["id"], "groupBy": "team,key", "format": "json"},
            headers=org["owner"],
        )
        assert response.status_code == 200, response.text
        return response.json()

    rows = eventually(exported)
    assert [
        (r["teamId"], r["keyId"], r["userId"], r["requests"], r["inputTokens"], r["outputTokens"])
        for r in rows
    ] == [
        (
            org["team"]["id"],
            org["key"]["id"],
            None,
            1,
            usage["prompt_tokens"],
            usage["completion_tokens"],
        )
    ]
    assert Decimal(str(rows[0]["credits"])) == spent

    as_csv = gateway.get(
        "/api/usage/export",
        params={"organizationId": org["id"], "groupBy": ""},
        headers=org["owner"],
    )
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert len(as_csv.text.strip().splitlines()) == 2  # header and the one total row

    stranger = bearer(new_user(gateway)["accessToken"])
    for caller in (org["member"], stranger):
        refused = gateway.get(
            "/api/usage/export", params={"organizationId": org["id"]}, headers=caller
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden"), refused.text
    unknown = gateway.get(
        "/api/usage/export", params={"organizationId": str(uuid.uuid4())}, headers=org["owner"]
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
