"""Chat calls the provider with the caller's own BYOK credential when provisioning (a stand-in
here) has one for the model's provider: the simulator sees that key, the reservation and the
usage say `byok`, and the answer is charged the BYOK fee (0 by default), not the model's
price. Without one, the platform's credential and price apply; with provisioning down, no
answer starts (503)."""

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated

import asyncpg
import jwt
import pytest_asyncio
from fastapi import FastAPI, Header, Query
from fastapi.responses import JSONResponse

from chat.config import ChatSettings
from chat.main import create_app
from infra_fixtures.servers import serve_app

from ..conftest import HAIKU, balance, bearer, funded_user

ACCESS_KEY_ID = "AKIASIMCHATBYOK1"  # the simulator's rule: AKIASIM... is valid


async def eventually(probe, timeout: float = 10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while (found := await probe()) is None and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    return found


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@dataclass
class FakeProvisioning:
    """``/internal/byok/credentials`` (and a plan of none) as provisioning answers them."""

    simulator: str = ""
    credentials: dict[str, dict] = field(default_factory=dict)
    down: bool = False
    asked: list[tuple[str, str | None, list[str]]] = field(default_factory=list)
    scopes: set[str] = field(default_factory=set)

    def give(self, user_id: str, access_key_id: str) -> None:
        self.credentials[user_id] = {
            "id": f"cred-{access_key_id}",
            "provider": "bedrock",
            "baseUrl": self.simulator,
            "accessKeyId": access_key_id,
            "secretAccessKey": "byok-secret",
            "region": "us-east-1",
        }

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/internal/users/{user_id}/plan")
        async def plan(user_id: str) -> JSONResponse:
            return JSONResponse({"plan": None, "assignedAt": None})

        @app.get("/internal/byok/credentials")
        async def credentials(
            provider: Annotated[list[str], Query()],
            authorization: Annotated[str, Header()],
            user_id: Annotated[str, Query(alias="userId")],
            team_id: Annotated[str | None, Query(alias="teamId")] = None,
        ) -> JSONResponse:
            claims = jwt.decode(
                authorization.removeprefix("Bearer "), options={"verify_signature": False}
            )
            self.scopes = set(claims["scope"].split())
            self.asked.append((user_id, team_id, provider))
            if self.down:
                return JSONResponse({"code": "database_unavailable", "message": "down"}, 503)
            found = self.credentials.get(user_id)
            if found is not None and found["provider"] not in provider:
                found = None
            return JSONResponse({"credential": found})

        return app


@dataclass
class ByokChat:
    url: str
    provisioning: FakeProvisioning


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def byok_chat(stack) -> AsyncIterator[ByokChat]:
    provisioning = FakeProvisioning(simulator=stack.simulator)
    async with serve_app(provisioning.app()) as provisioning_url:
        settings = ChatSettings(
            **{
                **stack.settings,
                "provisioning_url": provisioning_url,
                "byok_cache_seconds": 0.001,  # asked on every request: no cache to wait out
            }
        )
        async with serve_app(create_app(settings)) as url:
            yield ByokChat(url, provisioning)


def completion() -> dict:
    return {"model": HAIKU, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20}


async def last_key_fingerprint(http, stack) -> str:
    response = await http.get(f"{stack.simulator}/sim/requests", params={"limit": 20})
    answered = [r for r in response.json()["requests"] if "converse" in r["path"]]
    return answered[0]["keyFingerprint"]


async def usage_row(stack, user_id: str):
    conn = await asyncpg.connect(stack.accounting_db)
    try:
        return await conn.fetchrow(
            "SELECT u.byok, u.credits_micro, r.byok AS reserved_byok FROM usage_records u "
            "JOIN reservations r ON r.id = u.reservation_id WHERE u.user_id = $1 "
            "ORDER BY u.id DESC LIMIT 1",
            user_id,
        )
    finally:
        await conn.close()


async def test_an_answer_through_a_byok_credential_reaches_the_provider_with_that_key(
    http, stack, byok_chat
):
    user = await funded_user(http, stack, credits=10)
    byok_chat.provisioning.give(user["id"], ACCESS_KEY_ID)
    answer = await http.post(
        f"{byok_chat.url}/v1/chat/completions", json=completion(), headers=bearer(user["token"])
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"]
    assert await last_key_fingerprint(http, stack) == fingerprint(ACCESS_KEY_ID)
    assert "byok:read" in byok_chat.provisioning.scopes
    assert byok_chat.provisioning.asked[-1] == (user["id"], None, ["bedrock"])
    row = await eventually(lambda: usage_row(stack, user["id"]))
    assert (row["byok"], row["reserved_byok"], row["credits_micro"]) == (True, True, 0)
    assert (await balance(http, stack, user))["totalCredits"] == 10  # the fee is 0


async def test_without_a_credential_the_platforms_key_and_price_apply(http, stack, byok_chat):
    user = await funded_user(http, stack, credits=10)
    answer = await http.post(
        f"{byok_chat.url}/v1/chat/completions", json=completion(), headers=bearer(user["token"])
    )
    assert answer.status_code == 200, answer.text
    assert await last_key_fingerprint(http, stack) == fingerprint("simulator")
    row = await eventually(lambda: usage_row(stack, user["id"]))
    assert row["byok"] is False and row["credits_micro"] > 0
    assert (await balance(http, stack, user))["totalCredits"] < 10


async def test_a_credential_the_provider_refuses_fails_the_answer_and_charges_nothing(
    http, stack, byok_chat
):
    user = await funded_user(http, stack, credits=10)
    byok_chat.provisioning.give(user["id"], "AKIANOTASIMKEY01")
    answer = await http.post(
        f"{byok_chat.url}/v1/chat/completions", json=completion(), headers=bearer(user["token"])
    )
    assert answer.status_code == 502, answer.text
    assert answer.json()["code"] == "provider_error"
    assert await last_key_fingerprint(http, stack) == fingerprint("AKIANOTASIMKEY01")
    assert (await balance(http, stack, user))["totalCredits"] == 10


async def test_a_deleted_credential_is_not_used_once_the_cache_has_run_out(http, stack, byok_chat):
    user = await funded_user(http, stack, credits=10)
    byok_chat.provisioning.give(user["id"], ACCESS_KEY_ID)
    headers = bearer(user["token"])
    await http.post(f"{byok_chat.url}/v1/chat/completions", json=completion(), headers=headers)
    assert await last_key_fingerprint(http, stack) == fingerprint(ACCESS_KEY_ID)
    del byok_chat.provisioning.credentials[user["id"]]
    again = await http.post(
        f"{byok_chat.url}/v1/chat/completions", json=completion(), headers=headers
    )
    assert again.status_code == 200
    assert await last_key_fingerprint(http, stack) == fingerprint("simulator")


async def test_with_provisioning_down_no_answer_starts(http, stack, byok_chat):
    user = await funded_user(http, stack, credits=10)
    byok_chat.provisioning.down = True
    try:
        answer = await http.post(
            f"{byok_chat.url}/v1/chat/completions",
            json=completion(),
            headers=bearer(user["token"]),
        )
    finally:
        byok_chat.provisioning.down = False
    assert (answer.status_code, answer.json()["code"]) == (503, "provisioning_unavailable")
    assert (await balance(http, stack, user))["reservedCredits"] == 0
