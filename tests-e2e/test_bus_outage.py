"""RabbitMQ really stopped: a registration still succeeds, and its event arrives once after.
Meanwhile auth stays ready, degraded: its outbox covers the outage.

This stops and starts the broker application with rabbitmqctl, so it runs only where the
stack's RabbitMQ is this machine's (the local stack sets E2E_BROKER_CONTROL=rabbitmqctl).
"""

import asyncio
import os
import subprocess
import time
import uuid

import aio_pika
import httpx
import orjson
import pytest
from helpers import BUS_EXCHANGE, RABBITMQ_URL, new_user

pytestmark = pytest.mark.skipif(
    os.environ.get("E2E_BROKER_CONTROL") != "rabbitmqctl",
    reason="needs control of the stack's RabbitMQ (E2E_BROKER_CONTROL=rabbitmqctl)",
)


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


async def declare_probe_queue(name: str) -> None:
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            BUS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        # Durable so it outlives the broker restart; expires on its own if this test dies.
        queue = await channel.declare_queue(name, durable=True, arguments={"x-expires": 600_000})
        await queue.bind(exchange, "user.registered")


async def events_for(name: str, user_id: str, settle: float = 3.0, deadline: float = 60.0):
    connection = await aio_pika.connect(RABBITMQ_URL)
    found = []
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, durable=True, arguments={"x-expires": 600_000})
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline
        while loop.time() < end:
            message = await queue.get(fail=False)
            if message is None:
                await asyncio.sleep(0.1)
                continue
            await message.ack()
            event = orjson.loads(message.body)
            if event.get("userId") == user_id:
                found.append(event)
                end = min(end, loop.time() + settle)
        await queue.delete(if_unused=False, if_empty=False)
    return found


def wait_ready(auth: httpx.Client, timeout: float = 60) -> str:
    """Auth's readiness status once it is "ready" again (not merely "degraded"), or the last."""
    deadline = time.monotonic() + timeout
    status = "unknown"
    while time.monotonic() < deadline:
        response = auth.get("/api/health/ready")
        status = response.json().get("status", str(response.status_code))
        if status == "ready":
            break
        time.sleep(0.5)
    return status


def test_registration_while_rabbitmq_is_stopped_is_announced_once_after_restart(auth):
    queue = f"e2e.outage-probe.{uuid.uuid4().hex[:8]}"
    asyncio.run(declare_probe_queue(queue))
    rabbitmqctl("stop_app")
    try:
        ready_while_down = auth.get("/api/health/ready")
        user = new_user(auth)
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
    events = asyncio.run(events_for(queue, user["user"]["id"]))

    assert ready_while_down.status_code == 200
    assert ready_while_down.json()["status"] == "degraded"
    assert ready_while_down.json()["checks"]["rabbitmq"] == "down"
    assert user["user"]["role"] == "enduser"
    assert len(events) == 1
    assert events[0]["username"] == user["user"]["username"]
    assert wait_ready(auth) == "ready"
