"""RabbitMQ unreachable while an answer streams: its usage is kept with the answer and
reaches accounting once the broker is back, charged once."""

import asyncio
import logging
from decimal import Decimal
from urllib.parse import urlsplit

from pymongo import AsyncMongoClient

from chat.config import ChatSettings
from chat.main import create_app
from infra_fixtures.proxy import TcpProxy
from infra_fixtures.servers import serve_app

from .conftest import balance, bearer, funded_user, new_session, read_events


async def eventually(check, timeout=20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := await check()) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    return result


async def test_usage_recorded_during_a_broker_outage_arrives_later_and_is_charged_once(
    http, stack, rabbitmq_url, caplog
):
    # Accounting says at debug level that a late event for a settled reservation changes nothing.
    caplog.set_level(logging.DEBUG, logger="accounting.usage.consumers")
    broker = urlsplit(rabbitmq_url)
    user = await funded_user(http, stack)
    # A database of its own: every replica relays the outbox of the database it uses, and
    # the shared stack's replicas reach the broker.
    database = f"{stack.settings['mongo_database']}_outage"
    mongo = AsyncMongoClient(stack.settings["mongo_url"])
    messages = mongo[database].messages
    async with TcpProxy(broker.hostname, broker.port or 5672) as proxy:
        proxied = rabbitmq_url.replace(
            f"{broker.hostname}:{broker.port}", f"127.0.0.1:{proxy.port}"
        )
        settings = ChatSettings(
            **{**stack.settings, "rabbitmq_url": proxied, "mongo_database": database}
        )
        async with serve_app(create_app(settings)) as chat:
            session = await new_session(http, stack, user, base=chat)
            before = await balance(http, stack, user)
            await proxy.cut()
            async with http.stream(
                "POST",
                f"{chat}/api/chat/sessions/{session}/stream",
                json={"message": "while the broker is away"},
                headers=bearer(user["token"]),
            ) as response:
                events = await read_events(response)
            assert events[-1].event == "complete"
            answer = await messages.find_one({"_id": events[-1].data["messageId"]})
            await asyncio.sleep(1.0)  # the relay tries and fails meanwhile
            still_pending = await messages.find_one({"_id": answer["_id"], "usagePending": True})
            charged = await balance(http, stack, user)
            await proxy.restore()

            async def published():
                return await messages.find_one(
                    {"_id": answer["_id"], "usagePending": {"$exists": False}}
                )

            assert await eventually(published)
    event_id = answer["usage"]["event"]["eventId"]

    async def consumed():
        # Settled over HTTP already, so accounting applies nothing and says so (no write).
        return any(getattr(r, "eventId", None) == event_id for r in caplog.records)

    assert await eventually(consumed)
    await mongo.drop_database(database)
    await mongo.close()
    after = await balance(http, stack, user)
    assert still_pending is not None
    spent = Decimal(str(before["totalCredits"])) - Decimal(str(charged["totalCredits"]))
    assert spent == Decimal(str(events[-1].data["creditsUsed"])) > 0
    assert after["totalCredits"] == charged["totalCredits"]  # the late event charged nothing more
