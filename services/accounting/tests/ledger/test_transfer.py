"""ledger_transfer: what it draws, what the target receives, and that it adds up under races."""

import asyncio
import uuid

import pytest

from accounting.ledger import repository as ledger
from accounting.ledger.check import CHECKS, find_problems

from ..conftest import allocate, balance, funded_user, new_user, signed_service_headers, token

INTERNAL = signed_service_headers("provisioning")


async def account_of(client, owner_type: str, owner_id: str) -> str:
    response = await client.post(
        "/internal/accounts", json={"ownerType": owner_type, "ownerId": owner_id}, headers=INTERNAL
    )
    assert response.status_code == 200, response.text
    return response.json()["accountId"]


async def test_a_transfer_draws_the_soonest_expiring_and_keeps_each_expiry(client, auth, db):
    user = await new_user(auth)
    admin = await token(auth, "admin")
    lasting = (await allocate(client, admin, user["username"], 5)).json()
    late = (await allocate(client, admin, user["username"], 2, expiryDays=30)).json()
    soon = (await allocate(client, admin, user["username"], 3, expiryDays=1)).json()
    team = await account_of(client, "team", f"team-{uuid.uuid4()}")
    response = await client.post(
        "/internal/transfers",
        json={
            "fromOwnerType": "user",
            "fromOwnerId": user["id"],
            "toAccountId": team,
            "credits": 6,
            "idempotencyKey": f"expiry:{uuid.uuid4()}",
            "requestedBy": user["id"],
            "notes": "to the team",
        },
        headers=INTERNAL,
    )
    assert response.status_code == 201, response.text
    mine = (await balance(client, user))["activeAllocations"]
    left = {a["id"]: a["remainingCredits"] for a in mine}
    assert left == {soon["id"]: 0, late["id"]: 0, lasting["id"]: 4}
    received = await db.fetch(
        "SELECT amount_micro, remaining_micro, expires_at, notes FROM allocations "
        "WHERE account_id = $1 ORDER BY expires_at NULLS LAST",
        uuid.UUID(team),
    )
    expiry_of = {
        str(a["id"]): a["expires_at"]
        for a in await db.fetch(
            "SELECT id, expires_at FROM allocations WHERE account_id = $1",
            uuid.UUID(response.json()["fromAccountId"]),
        )
    }
    assert [(a["amount_micro"], a["remaining_micro"], a["expires_at"]) for a in received] == [
        (3_000_000, 3_000_000, expiry_of[soon["id"]]),
        (2_000_000, 2_000_000, expiry_of[late["id"]]),
        (1_000_000, 1_000_000, None),
    ]
    assert {a["notes"] for a in received} == {"to the team"}
    # The team's soonest expiry is known, so its credits expire on time like any others.
    next_expiry = await db.fetchval(
        "SELECT next_expiry_at FROM accounts WHERE id = $1", uuid.UUID(team)
    )
    assert next_expiry == expiry_of[soon["id"]]
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_transfers_both_ways_at_once_never_deadlock_and_add_up(client, auth, db):
    one, two = await funded_user(client, auth, 50), await funded_user(client, auth, 50)
    accounts = [await account_of(client, "user", u["id"]) for u in (one, two)]

    async def send(source: int) -> None:
        async with db.acquire() as conn:
            moved = await ledger.transfer(
                conn,
                transfer_id=uuid.uuid4(),
                idempotency_key=f"both-ways:{uuid.uuid4()}",
                from_account_id=uuid.UUID(accounts[source]),
                to_account_id=uuid.UUID(accounts[1 - source]),
                amount_micro=1_000_000,
                notes=None,
                created_by="test",
            )
        assert moved.applied and moved.sufficient

    await asyncio.gather(*(send(i % 2) for i in range(40)))
    totals = [(await balance(client, u))["availableCredits"] for u in (one, two)]
    assert totals == [50, 50]
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


class Rollback(Exception):
    pass


async def test_the_ledger_check_catches_a_lopsided_transfer(client, auth, db):
    user = await funded_user(client, auth, 2)
    source = uuid.UUID(await account_of(client, "user", user["id"]))
    target = uuid.UUID(await account_of(client, "team", f"team-{uuid.uuid4()}"))
    with pytest.raises(Rollback):
        async with db.acquire() as conn, conn.transaction():
            moved = await ledger.transfer(
                conn,
                transfer_id=uuid.uuid4(),
                idempotency_key=f"lopsided:{uuid.uuid4()}",
                from_account_id=source,
                to_account_id=target,
                amount_micro=1_000_000,
                notes=None,
                created_by="test",
            )
            # One forged micro-credit on the target's side, seen by the check, rolled back.
            await conn.execute(
                "INSERT INTO ledger_entries (account_id, kind, available_delta, held_delta, "
                "transfer_id) VALUES ($1, 'transfer_in', 1, 0, $2)",
                target,
                moved.transfer_id,
            )
            query = CHECKS["a transfer's two sides differ from its amount"]
            (lopsided,) = await conn.fetch(query)
            assert (lopsided["id"], lopsided["taken"], lopsided["given"]) == (
                moved.transfer_id,
                -1_000_000,
                1_000_001,
            )
            raise Rollback
    async with db.acquire() as conn:
        assert await find_problems(conn) == []
