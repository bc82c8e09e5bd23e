"""A plan and its Idempotency-Key commit in one transaction (issue 14): a failure while the key's
response is kept leaves neither the plan (or version) nor the key, so the retry does the work
once, instead of meeting 409 name_taken or adding a second version."""

import asyncio
import uuid

import pytest

from provisioning.idempotent import Once

from ..conftest import audit, login
from ..crashes import crash_once


def crash_once_keeping_the_response(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The next key's response fails to be kept: after the plan (or version) was written, in
    its transaction."""
    return crash_once(monkeypatch, Once, "record")


def plan_body() -> dict:
    return {"name": f"plan-{uuid.uuid4().hex[:8]}", "monthlyCredits": 5, "requestsPerMinute": 10}


async def test_a_plan_retried_after_a_failed_commit_is_created_once(api, auth, monkeypatch):
    admin = await login(auth, "admin")
    body = plan_body()
    headers = {**admin, "Idempotency-Key": str(uuid.uuid4())}
    crashes = crash_once_keeping_the_response(monkeypatch)
    assert (await api.post("/api/plans", json=body, headers=headers)).status_code == 500
    assert crashes == [1]
    plans = (await api.get("/api/plans", headers=admin)).json()["plans"]
    assert body["name"] not in [p["name"] for p in plans]  # rolled back with its key
    retry = await api.post("/api/plans", json=body, headers=headers)
    assert retry.status_code == 201, retry.text
    assert "Idempotent-Replayed" not in retry.headers
    plans = (await api.get("/api/plans", headers=admin)).json()["plans"]
    assert [p["name"] for p in plans].count(body["name"]) == 1
    assert len(await audit(api, admin, action="plan.created", targetId=retry.json()["id"])) == 1


async def test_a_version_retried_after_a_failed_commit_is_added_once(api, auth, monkeypatch):
    admin = await login(auth, "admin")
    created = await api.post("/api/plans", json=plan_body(), headers=admin)
    assert created.status_code == 201, created.text
    versions = f"/api/plans/{created.json()['id']}/versions"
    headers = {**admin, "Idempotency-Key": str(uuid.uuid4())}
    crash_once_keeping_the_response(monkeypatch)
    terms = {"monthlyCredits": 6, "requestsPerMinute": 10}
    assert (await api.post(versions, json=terms, headers=headers)).status_code == 500
    retry = await api.post(versions, json=terms, headers=headers)
    assert retry.status_code == 201, retry.text
    history = await api.get(f"/api/plans/{created.json()['id']}/history", headers=admin)
    assert [v["monthlyCredits"] for v in history.json()["versions"]] == [5, 6]


async def test_concurrent_versions_with_one_key_add_one(api, auth):
    admin = await login(auth, "admin")
    created = await api.post("/api/plans", json=plan_body(), headers=admin)
    versions = f"/api/plans/{created.json()['id']}/versions"
    headers = {**admin, "Idempotency-Key": str(uuid.uuid4())}
    terms = {"monthlyCredits": 7, "requestsPerMinute": 10}
    answers = await asyncio.gather(
        *(api.post(versions, json=terms, headers=headers) for _ in range(3))
    )
    assert [a.status_code for a in answers] == [201] * 3, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    history = await api.get(f"/api/plans/{created.json()['id']}/history", headers=admin)
    assert [v["monthlyCredits"] for v in history.json()["versions"]] == [5, 7]
