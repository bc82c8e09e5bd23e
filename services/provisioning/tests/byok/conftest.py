"""BYOK against a real model simulator (served in this loop), which checks the keys it is
given: provisioning's BYOK service is pointed at it for these tests."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from infra_fixtures.servers import serve_app
from model_simulator.config import SimulatorSettings
from model_simulator.main import create_app as create_simulator
from provisioning.byok.config import ByokSettings
from provisioning.byok.service import ByokService, byok_service

from ..conftest import HAIKU, login, model_group, new_org, new_user

GOOD_KEY = "sk-sim-byok-0123456789"  # the simulator's rule: sk-sim-... is valid
BAD_KEY = "sk-not-a-simulator-key-42"
GOOD_ACCESS_KEY_ID = "AKIASIMBYOK00001"
MAX_KEYS = 5


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def simulator() -> AsyncIterator[str]:
    settings = SimulatorSettings(environment="test", first_token_delay_ms=0, tokens_per_second=0)
    async with serve_app(create_simulator(settings)) as url:
        yield url


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def byok(stack, simulator) -> AsyncIterator[ByokService]:
    """The stack's BYOK service, calling the simulator, with a small per-owner limit."""
    state = stack.app.state
    previous = state.byok
    settings = ByokSettings(
        byok_openai_base_url=simulator,
        byok_anthropic_base_url=simulator,
        byok_bedrock_endpoint_url=simulator,
        byok_validate_timeout_seconds=5,
        max_byok_keys=MAX_KEYS,
    )
    state.byok = byok_service(state.pool, settings, production=False)
    try:
        yield state.byok
    finally:
        await state.byok.validator.aclose()
        state.byok = previous


async def store(api: httpx.AsyncClient, headers: dict, **body) -> httpx.Response:
    payload = {
        "provider": "openai",
        "label": "mine",
        "credentials": {"apiKey": GOOD_KEY},
        **body,
    }
    return await api.post("/api/byok/keys", json=payload, headers=headers)


async def team_of(api: httpx.AsyncClient, auth: httpx.AsyncClient) -> dict:
    """A new organization's team: its owner, a plain member and an outsider."""
    owner, member, outsider = [await new_user(auth) for _ in range(3)]
    org = await new_org(api, owner["headers"])
    admin = await login(auth, "admin")  # only a platform admin adds members directly
    added = await api.post(
        f"/api/organizations/{org['id']}/members",
        json={"username": member["username"], "role": "member"},
        headers=admin,
    )
    assert added.status_code == 201, added.text
    group = await model_group(api, admin, [HAIKU])
    created = await api.post(
        "/api/teams",
        json={
            "organizationId": org["id"],
            "name": f"t-{uuid.uuid4().hex[:6]}",
            "modelGroups": [group],
        },
        headers=owner["headers"],
    )
    assert created.status_code == 201, created.text
    return {**created.json(), "owner": owner, "member": member, "outsider": outsider}
