"""MongoDB unreachable when an answer ends: storing is tried again for a few seconds; an
answer that still cannot be stored ends with ``answer_not_stored`` and its hold is released
uncharged (its usage record would have lived in the same document), and one stored once
MongoDB is back within that time is charged as usual. The usage relay outlives the outage."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

import asyncpg
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from chat.config import ChatSettings
from chat.main import create_app as create_chat
from infra_fixtures.proxy import TcpProxy
from infra_fixtures.servers import serve_app

from ..conftest import balance, bearer, funded_user, new_session, read_events

SLOW = "[[sim:tokens-per-second=20]] [[sim:answer-tokens=20]] tell me"
CHUNKS = 20


@dataclass
class Outage:
    chat: str  # a replica whose MongoDB goes through ``proxy``
    proxy: TcpProxy
    messages: AsyncCollection  # its database, reached directly


@asynccontextmanager
async def mongo_behind_a_proxy(stack, **settings) -> AsyncIterator[Outage]:
    # A database of its own: its relay is the only one publishing its usage records.
    database = f"{stack.settings['mongo_database']}_{uuid.uuid4().hex[:6]}"
    target = urlsplit(stack.settings["mongo_url"])
    direct = AsyncMongoClient(stack.settings["mongo_url"])
    async with TcpProxy(target.hostname, target.port or 27017) as proxy:
        # directConnection: the proxy's address is the only one the client may use.
        proxied = f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true"
        chat_settings = ChatSettings(
            **{**stack.settings, "mongo_url": proxied, "mongo_database": database, **settings}
        )
        try:
            async with serve_app(create_chat(chat_settings)) as chat:
                yield Outage(chat, proxy, direct[database].messages)
        finally:
            await direct.drop_database(database)
            await direct.close()


async def charged_for(stack, reservation_id: str) -> tuple[str, int | None]:
    """The reservation's status and what accounting charged for it."""
    db = await asyncpg.connect(stack.accounting_db)
    try:
        row = await db.fetchrow(
            "SELECT r.status, u.credits_micro FROM reservations r "
            "LEFT JOIN usage_records u ON u.reservation_id = r.id WHERE r.id = $1",
            uuid.UUID(reservation_id),
        )
    finally:
        await db.close()
    return row["status"], row["credits_micro"]


async def test_an_answer_that_cannot_be_stored_ends_with_an_error_and_costs_nothing(http, stack):
    async with mongo_behind_a_proxy(stack, answer_store_seconds=2) as outage:
        user = await funded_user(http, stack)
        session = await new_session(http, stack, user, base=outage.chat)
        before = await balance(http, stack, user)
        async with http.stream(
            "POST",
            f"{outage.chat}/api/chat/sessions/{session}/stream",
            json={"message": SLOW},
            headers=bearer(user["token"]),
        ) as response:
            first = await read_events(response, stop_after=3)
            await outage.proxy.cut()
            started = asyncio.get_running_loop().time()
            rest = await asyncio.wait_for(read_events(response), 20)
            took = asyncio.get_running_loop().time() - started
        streaming_session_id = first[0].data["streamingSessionId"]
        end = rest[-1]
        assert (end.event, end.data["code"]) == ("error", "answer_not_stored"), end
        assert len([e for e in first + rest if e.event == "chunk"]) == CHUNKS
        assert took < 1 + 2 + 3  # the rest of the answer, the store's 2 s, some slack
        after = await balance(http, stack, user)
        assert after["totalCredits"] == before["totalCredits"]
        assert after["reservedCredits"] == 0
        assert await charged_for(stack, streaming_session_id) == ("aborted", 0)

        await outage.proxy.restore()
        assert (
            await outage.messages.find_one(
                {"streamingSessionId": streaming_session_id, "role": "assistant"}
            )
            is None
        )
        # Back by itself: the next answer is stored, and the relay, which failed all along
        # the outage, publishes its usage record.
        async with http.stream(
            "POST",
            f"{outage.chat}/api/chat/sessions/{session}/stream",
            json={"message": "after the outage"},
            headers=bearer(user["token"]),
        ) as response:
            again = await asyncio.wait_for(read_events(response), 20)
        assert again[-1].event == "complete", again[-1]

        async def published():
            return await outage.messages.find_one(
                {"_id": again[-1].data["messageId"], "usage.publishedAt": {"$exists": True}}
            )

        deadline = asyncio.get_running_loop().time() + 15
        while not await published():
            assert asyncio.get_running_loop().time() < deadline, "the relay did not publish"
            await asyncio.sleep(0.2)


async def test_an_answer_is_stored_and_charged_when_mongodb_is_back_within_the_retry_time(
    http, stack
):
    async with mongo_behind_a_proxy(stack, answer_store_seconds=8) as outage:
        user = await funded_user(http, stack)
        session = await new_session(http, stack, user, base=outage.chat)
        before = await balance(http, stack, user)
        async with http.stream(
            "POST",
            f"{outage.chat}/api/chat/sessions/{session}/stream",
            json={"message": SLOW},
            headers=bearer(user["token"]),
        ) as response:
            first = await read_events(response, stop_after=2)
            await outage.proxy.cut()
            await read_events(response, stop_after=CHUNKS - 1)  # the answer is over
            await asyncio.sleep(1.5)  # the store fails meanwhile
            await outage.proxy.restore()
            rest = await asyncio.wait_for(read_events(response), 20)
        end = rest[-1]
        assert end.event == "complete", end
        stored = await outage.messages.find_one({"_id": end.data["messageId"]})
        assert stored["status"] == "complete" and stored["usage"]["event"]
        after = await balance(http, stack, user)
        spent = Decimal(str(before["totalCredits"])) - Decimal(str(after["totalCredits"]))
        assert spent == Decimal(str(end.data["creditsUsed"])) > 0
        assert await charged_for(stack, first[0].data["streamingSessionId"]) == (
            "settled",
            int(spent * 1_000_000),
        )
