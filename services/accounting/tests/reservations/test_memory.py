"""What a process remembers of its reservations saves reads, never decisions: a finalize of a
reservation made here sends only its settlement, the usage event of an answer settled here
sends nothing, and anything not remembered is read as before; a usage event it must apply is
checked, claimed and settled in one statement (real PostgreSQL)."""

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from prometheus_client import REGISTRY

from accounting.ledger.batcher import AccountBatcher
from accounting.reservations.memory import ReservationFacts, ReservationMemory
from accounting.reservations.schemas import InitializeRequest, SettleRequest
from accounting.usage.consumers import UsageRecordedHandler
from bus_events import UsageRecorded, event_of
from event_bus import Event, PermanentEventError
from jwt_contract import Principal
from service_kit import ApiError

from ..conftest import balance, funded_user

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"  # 0.25 in / 1.25 out per 1K tokens


class LoggedPool:
    """The real pool, noting every statement sent on a connection it lends."""

    def __init__(self, pool) -> None:
        self._pool = pool
        self.sent: list[str] = []

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator:
        async with self._pool.acquire() as conn:
            conn.add_query_logger(self._note)
            try:
                yield conn
            finally:
                conn.remove_query_logger(self._note)

    def _note(self, logged) -> None:
        self.sent.append(" ".join(logged.query.split()))


def principal(user: dict) -> Principal:
    return Principal(
        user_id=user["id"],
        username=user["username"],
        email=f"{user['username']}@example.com",
        role="enduser",
        token_type="access",
        token_id=str(uuid.uuid4()),
        expires_at=0,
    )


def already_settled_events() -> float:
    return (
        REGISTRY.get_sample_value(
            "accounting_events_processed_total",
            {"type": "usage.recorded", "outcome": "already_settled"},
        )
        or 0.0
    )


def replica(app, pool: LoggedPool, memory: ReservationMemory | None = None):
    """The app's reservations service and usage consumer over ``pool``: with the app's memory,
    or (another replica, a restart) one of their own."""
    service = app.state.reservations
    memory = memory or service.memory
    reservations = dataclasses.replace(
        service, pool=pool, batcher=AccountBatcher(pool), memory=memory
    )
    consumer = UsageRecordedHandler(
        pool, app.state.accounts, service.prices, service.low_credits, memory
    )
    return reservations, consumer


def usage(user: dict, streaming_session_id: uuid.UUID) -> Event:
    return Event.from_dict(
        event_of(
            UsageRecorded(
                user_id=user["id"],
                session_id="chat-1",
                streaming_session_id=streaming_session_id,
                model_id=HAIKU,
                input_tokens=400,
                output_tokens=600,
                service="chat",
                operation="stream",
            )
        )
    )


SETTLE = "SELECT status, charged, refunded, applied FROM ledger_settle("


async def test_an_answer_made_here_costs_one_statement_to_settle_and_none_for_its_event(
    app, client, auth
):
    user = await funded_user(client, auth, 10)
    pool = LoggedPool(app.state.reservations.pool)
    reservations, consumer = replica(app, pool)
    held = await reservations.initialize(
        principal(user),
        InitializeRequest(session_id="chat-1", model_id=HAIKU, estimated_tokens=1000),
    )

    pool.sent.clear()
    settled = await reservations.settle(
        SettleRequest(
            streaming_session_id=held.streaming_session_id, input_tokens=400, output_tokens=600
        ),
        abort=False,
        user_id=None,
    )
    assert [q[: len(SETTLE)] for q in pool.sent] == [SETTLE]  # no read of the reservation first
    assert (settled.status, settled.used_credits, settled.refund) == ("settled", 850_000, 525_000)

    pool.sent.clear()
    seen = already_settled_events()
    await consumer(usage(user, held.streaming_session_id))
    assert pool.sent == []
    assert already_settled_events() == seen + 1
    assert (await balance(client, user))["totalCredits"] == 9.15


async def test_what_is_not_remembered_is_read_and_decided_the_same(app, client, auth):
    user = await funded_user(client, auth, 10)
    pool = LoggedPool(app.state.reservations.pool)
    here, _ = replica(app, pool)
    held = await here.initialize(
        principal(user),
        InitializeRequest(session_id="chat-1", model_id=HAIKU, estimated_tokens=1000),
    )
    elsewhere, _ = replica(app, pool, ReservationMemory())  # another replica
    request = SettleRequest(
        streaming_session_id=held.streaming_session_id, input_tokens=400, output_tokens=600
    )

    with pytest.raises(ApiError) as refused:  # the reservation is not this user's
        await elsewhere.settle(request, abort=False, user_id=str(uuid.uuid4()))
    assert refused.value.status == 404
    with pytest.raises(ApiError) as refused_here:  # nor when it is remembered
        await here.settle(request, abort=False, user_id=str(uuid.uuid4()))
    assert refused_here.value.status == 404

    pool.sent.clear()
    settled = await elsewhere.settle(request, abort=False, user_id=user["id"])
    assert len(pool.sent) == 2 and pool.sent[1].startswith(SETTLE)  # read, then settled
    assert (settled.status, settled.used_credits) == ("settled", 850_000)

    # The replica that made it did not settle it: its event is read, and changes nothing.
    _, consumer_here = replica(app, pool, ReservationMemory())
    pool.sent.clear()
    seen = already_settled_events()
    await consumer_here(usage(user, held.streaming_session_id))
    assert len(pool.sent) == 1
    assert already_settled_events() == seen + 1
    again = await here.settle(request, abort=False, user_id=None)
    assert (again.status, again.used_credits) == ("settled", 850_000)
    assert (await balance(client, user))["totalCredits"] == 9.15


FACTS = ReservationFacts(uuid.uuid4(), "u1", HAIKU, byok=False)


async def test_an_event_waits_for_a_settlement_in_progress_here():
    memory = ReservationMemory()
    reservation = uuid.uuid4()
    memory.made(reservation, FACTS)
    entered, release = asyncio.Event(), asyncio.Event()

    async def settle() -> None:
        async with memory.settling(reservation):
            entered.set()
            await release.wait()
            memory.ended(reservation, "u1")

    settling = asyncio.create_task(settle())
    await entered.wait()
    asking = asyncio.create_task(memory.has_ended(reservation, "u1"))
    await asyncio.wait({asking}, timeout=0.05)
    assert not asking.done()  # waits for the settlement rather than answering "not known"
    release.set()
    assert await asking
    await settling
    assert memory.facts(reservation) is None  # ended: what it was for is no longer needed


async def test_a_failed_settlement_or_another_user_is_not_known_to_have_ended():
    memory = ReservationMemory()
    failed, other = uuid.uuid4(), uuid.uuid4()
    memory.made(failed, FACTS)
    with pytest.raises(RuntimeError):
        async with memory.settling(failed):
            raise RuntimeError("database gone")
    assert not await memory.has_ended(failed, "u1")
    assert memory.facts(failed) == FACTS
    memory.ended(other, "u1")
    assert not await memory.has_ended(other, "u2")
    assert await memory.has_ended(other, "u1")


async def test_the_oldest_entries_go_first_past_the_size():
    memory = ReservationMemory(size=2)
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for reservation in (first, second, third):
        memory.made(reservation, FACTS)
        memory.ended(reservation, "u1")
    assert not await memory.has_ended(first, "u1")
    assert await memory.has_ended(second, "u1") and await memory.has_ended(third, "u1")


async def test_an_event_before_its_finalize_is_checked_claimed_and_settled_in_one_statement(
    app, client, auth, db
):
    user = await funded_user(client, auth, 10)
    pool = LoggedPool(app.state.reservations.pool)
    here, _ = replica(app, pool)
    held = await here.initialize(
        principal(user),
        InitializeRequest(session_id="chat-1", model_id=HAIKU, estimated_tokens=1000),
    )
    _, consumer = replica(app, pool, ReservationMemory())  # the event reaches another replica
    event = usage(user, held.streaming_session_id)

    pool.sent.clear()
    await consumer(event)
    assert [q.split("(")[0] for q in pool.sent] == [
        "SELECT outcome, status, charged, refunded, applied FROM ledger_settle_usage"
    ]
    claims = "SELECT count(*) FROM processed_events WHERE event_id = $1"
    assert await db.fetchval(claims, event.event_id) == 1
    seen = already_settled_events()
    await consumer(event)  # redelivered: settled now, so nothing more is claimed or charged
    assert already_settled_events() == seen + 1
    assert await db.fetchval(claims, event.event_id) == 1

    late = await here.settle(  # chat's finalize, after its event: the first figures stand
        SettleRequest(
            streaming_session_id=held.streaming_session_id, input_tokens=4000, output_tokens=0
        ),
        abort=False,
        user_id=None,
    )
    assert (late.status, late.used_credits) == ("settled", 850_000)
    assert (await balance(client, user))["totalCredits"] == 9.15


async def test_an_event_naming_someone_elses_reservation_is_refused_and_claims_nothing(
    app, client, auth, db
):
    owner, other = await funded_user(client, auth, 10), await funded_user(client, auth, 10)
    pool = LoggedPool(app.state.reservations.pool)
    here, consumer = replica(app, pool)
    held = await here.initialize(
        principal(owner),
        InitializeRequest(session_id="chat-1", model_id=HAIKU, estimated_tokens=1000),
    )
    for event in (usage(other, held.streaming_session_id), usage(owner, uuid.uuid4())):
        with pytest.raises(PermanentEventError):
            await consumer(event)
        claimed = await db.fetchval(
            "SELECT count(*) FROM processed_events WHERE event_id = $1", event.event_id
        )
        assert claimed == 0
    assert (await balance(client, owner))["reservedCredits"] == 1.375
    assert (await balance(client, other))["totalCredits"] == 10


async def test_a_redelivered_event_of_an_answer_settled_here_sends_nothing_either(
    app, client, auth
):
    user = await funded_user(client, auth, 10)
    pool = LoggedPool(app.state.reservations.pool)
    reservations, consumer = replica(app, pool, ReservationMemory())
    held = await reservations.initialize(
        principal(user),
        InitializeRequest(session_id="chat-1", model_id=HAIKU, estimated_tokens=1000),
    )
    await reservations.settle(
        SettleRequest(streaming_session_id=held.streaming_session_id, actual_tokens=1000),
        abort=False,
        user_id=None,
    )
    event = usage(user, held.streaming_session_id)
    pool.sent.clear()
    for _ in range(2):  # delivered at least once
        await consumer(event)
    assert pool.sent == []
