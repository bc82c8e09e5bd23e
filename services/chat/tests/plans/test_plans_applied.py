"""Chat applies the caller's plan, as provisioning answers it (a stand-in here, recording what
chat sends): its requestsPerMinute replaces REQUESTS_PER_MINUTE, its models narrow what a user
lists and uses; a team key keeps its team's models; with provisioning down, the last known plan
applies and a user whose plan is not known cannot list or choose a model (503)."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import jwt
import pytest_asyncio
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse

from auth.config import AuthSettings
from auth.keys.signing import build_signer, load_signing_key
from chat.config import ChatSettings
from chat.main import create_app
from infra_fixtures.servers import serve_app

from ..conftest import HAIKU, bearer, funded_user, in_one_limit_window

SONNET = "anthropic.claude-3-sonnet-20240229-v1:0"
TITAN = "amazon.titan-text-express-v1"
CHAT_WIDE_LIMIT = 3


@dataclass
class FakeProvisioning:
    """``GET /internal/users/{userId}/plan`` as provisioning answers it."""

    plans: dict[str, dict] = field(default_factory=dict)
    down: bool = False
    asked: list[str] = field(default_factory=list)
    scopes: set[str] = field(default_factory=set)

    def put_on(self, user_id: str, *, rpm: int, models: list[str] | None) -> None:
        self.plans[user_id] = {
            "id": str(uuid.uuid4()),
            "name": f"plan-{rpm}",
            "isDefault": False,
            "monthlyCredits": 5,
            "requestsPerMinute": rpm,
            "models": models,
        }

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/internal/users/{user_id}/plan")
        async def plan(user_id: str, authorization: str = Header()) -> JSONResponse:
            self.asked.append(user_id)
            claims = jwt.decode(
                authorization.removeprefix("Bearer "), options={"verify_signature": False}
            )
            self.scopes = set(claims["scope"].split()) if claims["type"] == "service" else set()
            if self.down:
                return JSONResponse({"code": "database_unavailable", "message": "down"}, 503)
            return JSONResponse({"plan": self.plans.get(user_id), "assignedAt": None})

        @app.get("/internal/byok/credentials")
        async def no_credential() -> JSONResponse:
            """Chat also asks provisioning for a caller's own provider key: none here."""
            return JSONResponse({"credential": None})

        return app


@dataclass
class PlanChat:
    url: str
    provisioning: FakeProvisioning


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def planned(stack) -> AsyncIterator[PlanChat]:
    """Chat applying plans, asking provisioning on every request (no caching to wait out)."""
    provisioning = FakeProvisioning()
    async with serve_app(provisioning.app()) as provisioning_url:
        settings = ChatSettings(
            **{
                **stack.settings,
                "provisioning_url": provisioning_url,
                "plan_cache_seconds": 0.001,
                "requests_per_minute": CHAT_WIDE_LIMIT,
            }
        )
        async with serve_app(create_app(settings)) as url:
            yield PlanChat(url, provisioning)


async def model_ids(http, base: str, token: str) -> tuple[list[str], list[str]]:
    listed = await http.get(f"{base}/api/models", headers=bearer(token))
    openai = await http.get(f"{base}/v1/models", headers=bearer(token))
    assert (listed.status_code, openai.status_code) == (200, 200), listed.text
    return [m["id"] for m in listed.json()["models"]], [m["id"] for m in openai.json()["data"]]


def completion(model: str) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}]}


async def test_a_plans_models_are_all_a_user_lists_and_uses(http, stack, planned):
    user, other = await funded_user(http, stack), await funded_user(http, stack)
    planned.provisioning.put_on(user["id"], rpm=30, models=[HAIKU])
    planned.provisioning.put_on(other["id"], rpm=30, models=None)
    assert await model_ids(http, planned.url, user["token"]) == ([HAIKU], [HAIKU])
    listed, _ = await model_ids(http, planned.url, other["token"])
    assert {HAIKU, SONNET, TITAN} <= set(listed)
    assert "plans:read" in planned.provisioning.scopes  # chat asks as itself
    headers = bearer(user["token"])
    refusals = [
        await http.post(
            f"{planned.url}/v1/chat/completions", json=completion(SONNET), headers=headers
        ),
        await http.post(
            f"{planned.url}/api/chat/sessions", json={"modelId": TITAN}, headers=headers
        ),
    ]
    session = await http.post(
        f"{planned.url}/api/chat/sessions", json={"modelId": HAIKU}, headers=headers
    )
    assert session.status_code == 201, session.text
    on = f"{planned.url}/api/chat/sessions/{session.json()['sessionId']}"
    refusals += [
        await http.post(
            f"{on}/messages", json={"message": "hi", "modelId": SONNET}, headers=headers
        ),
        await http.post(f"{on}/stream", json={"message": "hi", "modelId": SONNET}, headers=headers),
    ]
    assert [(r.status_code, r.json()["code"]) for r in refusals] == [(400, "invalid_model")] * 4
    allowed = await http.post(
        f"{planned.url}/v1/chat/completions", json=completion(HAIKU), headers=headers
    )
    assert allowed.status_code == 200, allowed.text
    # The other user, on a plan without model groups, uses any model of their role.
    other_call = await http.post(
        f"{planned.url}/v1/chat/completions",
        json=completion(SONNET),
        headers=bearer(other["token"]),
    )
    assert other_call.status_code == 200, other_call.text


async def writes_until_refused(http, base: str, token: str, most: int) -> list[int]:
    statuses = []
    for n in range(most):
        response = await http.post(
            f"{base}/api/chat/sessions", json={"title": f"w{n}"}, headers=bearer(token)
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.json()["code"] == "rate_limited"
            assert 1 <= int(response.headers["Retry-After"]) <= 60
            break
    return statuses


async def test_a_plans_requests_per_minute_replaces_the_chat_wide_limit(http, stack, planned):
    lower, higher, unplanned = [await funded_user(http, stack) for _ in range(3)]
    planned.provisioning.put_on(lower["id"], rpm=1, models=None)
    planned.provisioning.put_on(higher["id"], rpm=CHAT_WIDE_LIMIT + 2, models=None)
    await in_one_limit_window()
    assert await writes_until_refused(http, planned.url, lower["token"], 8) == [201, 429]
    assert await writes_until_refused(http, planned.url, higher["token"], 8) == [201] * 5 + [429]
    assert await writes_until_refused(http, planned.url, unplanned["token"], 8) == [201] * 3 + [429]


def team_key_token(models: list[str]) -> str:
    """A team key's token as auth's exchange signs it (acting as the team)."""
    defaults = AuthSettings(environment="test")
    signer = build_signer(defaults, load_signing_key(defaults))
    key_id = str(uuid.uuid4())
    token, _ = signer.issue(
        user_id=key_id,
        username="key:ci",
        email="sk-test@api-keys.invalid",
        role="enduser",
        token_type="access",
        ttl_seconds=600,
        extra={
            "teamId": str(uuid.uuid4()),
            "accountId": str(uuid.uuid4()),
            "keyId": key_id,
            "models": models,
        },
    )
    return token


async def test_a_team_key_keeps_its_teams_models_whatever_the_plans(http, planned):
    token = team_key_token([SONNET, HAIKU])
    asked = len(planned.provisioning.asked)
    assert await model_ids(http, planned.url, token) == ([SONNET, HAIKU], [SONNET, HAIKU])
    assert len(planned.provisioning.asked) == asked  # no plan was asked for it


async def test_while_provisioning_is_down_the_last_known_plan_applies(http, stack, planned):
    known, unknown = await funded_user(http, stack), await funded_user(http, stack)
    planned.provisioning.put_on(known["id"], rpm=30, models=[HAIKU])
    planned.provisioning.put_on(unknown["id"], rpm=30, models=[HAIKU])
    assert await model_ids(http, planned.url, known["token"]) == ([HAIKU], [HAIKU])
    planned.provisioning.down = True
    try:
        asked = len(planned.provisioning.asked)
        assert await model_ids(http, planned.url, known["token"]) == ([HAIKU], [HAIKU])
        assert len(planned.provisioning.asked) > asked  # it did ask, and was refused
        refused = await http.post(
            f"{planned.url}/v1/chat/completions",
            json=completion(SONNET),
            headers=bearer(known["token"]),
        )
        assert (refused.status_code, refused.json()["code"]) == (400, "invalid_model")
        headers = bearer(unknown["token"])
        fail_closed = [
            await http.get(f"{planned.url}/api/models", headers=headers),
            await http.get(f"{planned.url}/v1/models", headers=headers),
            await http.post(
                f"{planned.url}/v1/chat/completions", json=completion(HAIKU), headers=headers
            ),
            await http.post(
                f"{planned.url}/api/chat/sessions", json={"title": "t"}, headers=headers
            ),
        ]
        assert [(r.status_code, r.json()["code"]) for r in fail_closed] == [
            (503, "provisioning_unavailable")
        ] * 4
        assert all(r.headers["Retry-After"] for r in fail_closed)
        # What does not depend on the plan still answers.
        listing = await http.get(f"{planned.url}/api/chat/sessions", headers=headers)
        assert listing.status_code == 200, listing.text
    finally:
        planned.provisioning.down = False
    assert await model_ids(http, planned.url, unknown["token"]) == ([HAIKU], [HAIKU])


async def test_an_unreachable_provisioning_fails_closed_for_an_unknown_plan(http, stack):
    user = await funded_user(http, stack)
    settings = ChatSettings(**{**stack.settings, "provisioning_url": "http://127.0.0.1:9"})
    async with serve_app(create_app(settings)) as url:
        response = await http.get(f"{url}/api/models", headers=bearer(user["token"]))
        assert (response.status_code, response.json()["code"]) == (503, "provisioning_unavailable")
        listing = await http.get(f"{url}/api/chat/sessions", headers=bearer(user["token"]))
        assert listing.status_code == 200, listing.text
