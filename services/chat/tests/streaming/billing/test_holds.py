"""A hold lives as long as its answer: chat extends it while streaming and reports what was
generated, and an answer whose hold is gone is stopped, charged, never free."""

import asyncio
import uuid
from decimal import Decimal

import asyncpg

from accounting.ledger.check import find_problems
from chat.config import ChatSettings
from chat.main import create_app as create_chat
from infra_fixtures.servers import serve_app

from ...conftest import balance, bearer, funded_user, new_session, read_events

SLOW = "keep going [[sim:tokens-per-second=20]] [[sim:answer-tokens=200]]"


async def reservation_of(db: asyncpg.Connection, user_id: str) -> asyncpg.Record | None:
    return await db.fetchrow(
        "SELECT id, expires_at, reported_output_tokens, status FROM reservations "
        "WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1",
        user_id,
    )


async def progress_reported(db: asyncpg.Connection, user_id: str) -> asyncpg.Record:
    """The user's reservation once chat has reported progress on it (an extension)."""

    async def reported():
        row = await reservation_of(db, user_id)
        return row if row["reported_output_tokens"] > 0 else None

    return await until(reported)


async def until(predicate, timeout: float = 10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (found := await predicate()):
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)
    return found


async def test_a_streaming_answer_extends_its_hold_and_reports_progress(http, stack):
    async with serve_app(create_chat(ChatSettings(**stack.settings, hold_extend_seconds=1))) as url:
        user = await funded_user(http, stack)
        session = await new_session(http, stack, user, base=url)
        db = await asyncpg.connect(stack.accounting_db)
        try:
            async with http.stream(
                "POST",
                f"{url}/api/chat/sessions/{session}/stream",
                json={"message": SLOW},
                headers=bearer(user["token"]),
            ) as response:
                await read_events(response, stop_after=2)
                first = await reservation_of(db, user["id"])
                later = await progress_reported(db, user["id"])
                assert later["expires_at"] > first["expires_at"]
                assert later["status"] == "held"
        finally:
            await db.close()


async def test_an_answer_whose_hold_is_gone_stops_and_is_charged(http, stack):
    async with serve_app(create_chat(ChatSettings(**stack.settings, hold_extend_seconds=1))) as url:
        user = await funded_user(http, stack, 100)
        session = await new_session(http, stack, user, base=url)
        db = await asyncpg.connect(stack.accounting_db)
        try:
            async with http.stream(
                "POST",
                f"{url}/api/chat/sessions/{session}/stream",
                json={"message": SLOW},
                headers=bearer(user["token"]),
            ) as response:
                await read_events(response, stop_after=3)
                held = await progress_reported(db, user["id"])
                # The hold runs out (as if chat had been unreachable for its whole life) and
                # the sweeper settles it with the progress last reported.
                await db.execute(
                    "UPDATE reservations SET expires_at = now() - interval '1 second' "
                    "WHERE id = $1",
                    held["id"],
                )
                assert await db.fetchval("SELECT ledger_expire_holds(100)") == 1
                events = await read_events(response)
            assert events[-1].event == "error"
            assert events[-1].data["code"] == "hold_lost"
            after = await balance(http, stack, user)
            assert after["reservedCredits"] == 0
            charged = await db.fetchval(
                "SELECT credits_micro FROM usage_records WHERE reservation_id = $1",
                uuid.UUID(str(held["id"])),
            )
            assert charged > 0  # what was reported, never nothing
            spent = Decimal(100) - Decimal(str(after["totalCredits"]))
            assert spent == Decimal(charged) / 1_000_000
            assert await find_problems(db) == []
        finally:
            await db.close()
