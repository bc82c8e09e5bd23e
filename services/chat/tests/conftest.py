"""Chat against everything real: the simulator (through boto3, the OpenAI wire format and the
anthropic SDK), auth, accounting, MongoDB, Redis and RabbitMQ, each service served over HTTP in
this loop."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from httpx_sse import EventSource, ServerSentEvent, SSEError

from accounting.config import AccountingSettings
from accounting.main import create_app as create_accounting
from auth.config import AuthSettings
from auth.main import create_app as create_auth
from chat.config import ChatSettings
from chat.main import create_app as create_chat
from infra_fixtures.servers import serve_app
from model_simulator.config import SimulatorSettings
from model_simulator.main import create_app as create_simulator

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"  # 0.25 in / 1.25 out credits per 1K tokens
ANSWER_TOKENS = 30


@dataclass
class Stack:
    auth: str
    accounting: str
    simulator: str
    chat: str
    chat_b: str
    settings: dict = field(default_factory=dict)
    accounting_db: str = ""
    chat_app: Any = None  # the app behind ``chat``, for what only its state shows


@pytest.fixture(scope="session")
def chat_settings_base(
    postgres_databases, redis_url, rabbitmq_url, bus_namespace, mongo_url, mongo_database_name
):
    return {
        "environment": "test",
        "mongo_url": mongo_url,
        "mongo_database": mongo_database_name,
        "redis_url": redis_url,
        "rabbitmq_url": rabbitmq_url,
        "bus_exchange": bus_namespace.exchange_name("chat-stack"),
        "disconnect_grace_seconds": 2,
        "heartbeat_seconds": 1,
        "max_output_tokens": 200,
    }


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stack(
    postgres_databases, redis_url, rabbitmq_url, bus_namespace, chat_settings_base
) -> AsyncIterator[Stack]:
    simulator = create_simulator(
        SimulatorSettings(
            environment="test",
            first_token_delay_ms=0,
            tokens_per_second=0,
            answer_tokens=ANSWER_TOKENS,
            max_stall_seconds=5,
        )
    )
    auth = create_auth(
        AuthSettings(
            environment="test",
            database_url=postgres_databases.create("auth"),
            redis_url=redis_url,
            rabbitmq_url=rabbitmq_url,
            bus_exchange=chat_settings_base["bus_exchange"],
            seed_demo_users=True,
            argon2_time_cost=1,
            argon2_memory_kib=8192,
        )
    )
    async with serve_app(simulator) as simulator_url, serve_app(auth) as auth_url:
        accounting_db = postgres_databases.create("accounting")
        accounting = create_accounting(
            AccountingSettings(
                environment="test",
                database_url=accounting_db,
                rabbitmq_url=rabbitmq_url,
                bus_exchange=chat_settings_base["bus_exchange"],
                user_registered_queue=bus_namespace.queue_name("chat-stack.user-registered"),
                usage_recorded_queue=bus_namespace.queue_name("chat-stack.usage-recorded"),
                auth_url=auth_url,
            )
        )
        async with serve_app(accounting) as accounting_url:
            settings = {
                **chat_settings_base,
                "auth_url": auth_url,
                "accounting_url": accounting_url,
                "bedrock_endpoint_url": simulator_url,
                "openai_base_url": f"{simulator_url}/v1",
                "anthropic_base_url": simulator_url,
            }
            chat_app = create_chat(ChatSettings(**settings))
            async with (
                serve_app(chat_app) as chat_url,
                serve_app(create_chat(ChatSettings(**settings))) as chat_b_url,
            ):
                yield Stack(
                    auth_url,
                    accounting_url,
                    simulator_url,
                    chat_url,
                    chat_b_url,
                    settings,
                    accounting_db,
                    chat_app,
                )


@pytest_asyncio.fixture(loop_scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


PASSWORDS = {"admin": "admin@admin", "supervisor1": "Supervisor1@", "user1": "User1@123"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(http, stack, username) -> str:
    response = await http.post(
        f"{stack.auth}/api/auth/login",
        json={"username": username, "password": PASSWORDS[username]},
    )
    assert response.status_code == 200, response.text
    return response.json()["accessToken"]


async def funded_user(http, stack, credits=100) -> dict:
    name = f"chat{uuid.uuid4().hex[:10]}"
    response = await http.post(
        f"{stack.auth}/api/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": "Str0ng-pass!"},
    )
    assert response.status_code == 201, response.text
    user = {
        "id": response.json()["user"]["id"],
        "username": name,
        "token": response.json()["accessToken"],
    }
    if credits:
        granted = await http.post(
            f"{stack.accounting}/api/credits/allocate",
            json={"targetUserId": name, "credits": credits},
            headers=bearer(await login(http, stack, "admin")),
        )
        assert granted.status_code == 201, granted.text
    return user


async def new_session(http, stack, user, model_id=HAIKU, base=None) -> str:
    response = await http.post(
        f"{base or stack.chat}/api/chat/sessions",
        json={"title": "t", "modelId": model_id},
        headers=bearer(user["token"]),
    )
    assert response.status_code == 201, response.text
    return response.json()["sessionId"]


async def balance(http, stack, user) -> dict:
    response = await http.get(
        f"{stack.accounting}/api/credits/balance", headers=bearer(user["token"])
    )
    assert response.status_code == 200
    return response.json()


async def in_one_limit_window(needed: float = 10) -> None:
    """Request limits count per minute (a fixed window): a test counting up to a limit waits
    for the next minute when fewer than ``needed`` seconds are left of this one."""
    left = 60 - time.time() % 60
    if left < needed:
        await asyncio.sleep(left + 0.05)


@dataclass
class SseEvent:
    event: str
    data: dict[str, Any]
    id: str | None  # this event's own ``id:``, None when it has none


@dataclass
class _EventReader:
    """One httpx-sse iterator per response, so a test can read some events now and the rest
    later; and the id last seen, because httpx-sse gives an event without an ``id:`` the
    previous event's (the SSE last event id) where a test wants to see that it had none."""

    events: AsyncIterator[ServerSentEvent]
    last_id: str = ""


async def read_events(response: httpx.Response, stop_after: int | None = None) -> list[SseEvent]:
    """Parse an SSE body; stop (and leave the rest unread) after ``stop_after`` events, or
    else after the answer's last event (``complete`` or ``error``)."""
    # Kept on the response itself: it lives as long as the response, and no longer.
    reader: _EventReader | None = getattr(response, "_sse_reader", None)
    if reader is None:
        reader = _EventReader(EventSource(response).aiter_sse())
        response._sse_reader = reader  # type: ignore[attr-defined]
    events: list[SseEvent] = []
    try:
        async for sse in reader.events:
            if not sse.data:  # a keep-alive comment, after an id was seen
                continue
            # Every id this service sends is new, so one equal to the last is inherited.
            own_id = sse.id if sse.id and sse.id != reader.last_id else None
            reader.last_id = sse.id
            events.append(SseEvent(sse.event, sse.json(), own_id))
            if stop_after is not None and len(events) >= stop_after:
                return events
            if events[-1].event in ("complete", "error") and stop_after is None:
                return events
    except SSEError:  # not an event stream (a 204, an error body): no events
        pass
    return events


async def streamed_answer(http, stack, user, session: str, message: str) -> list[SseEvent]:
    """The events of one answer to ``message``, asked by ``user`` in ``session``."""
    async with http.stream(
        "POST",
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        json={"message": message},
        headers=bearer(user["token"]),
    ) as response:
        assert response.status_code == 200, await response.aread()
        return await read_events(response)


def text_of(events: list[SseEvent]) -> str:
    return "".join(e.data["content"] for e in events if e.event == "chunk")
