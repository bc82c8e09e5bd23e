"""Personal API keys made by the real auth service, as accounting meets them: the token the
gateway trades a key for, forwarded by chat in ``X-On-Behalf-Of``."""

import uuid
from dataclasses import dataclass

import asyncpg

from ..conftest import bearer, funded_user, on_behalf, service_token

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"  # 0.25 in / 1.25 out per 1K tokens
# What a reservation of 1,000 HAIKU tokens holds: 1,000 at 1.25/1K, +10 % margin.
HOLD_1000 = 1.375
HOLD_1000_MICRO = 1_375_000


async def key_holder(client, auth, credits, budget=None, name="budgeted") -> dict:
    """A funded user and a personal key of theirs: like ``funded_user``, but ``token`` is the
    key's exchanged token (``owner_token`` the user's own), with ``key_id``."""
    owner = await funded_user(client, auth, credits)
    return {**owner, **await new_key(auth, owner, budget, name)}


async def new_key(auth, owner: dict, budget=None, name="budgeted") -> dict:
    """Another key of ``owner``: {token, owner_token, key_id}."""
    owner_token = owner.get("owner_token", owner["token"])
    body = {"name": name, **({"maxBudgetCredits": budget} if budget is not None else {})}
    created = await auth.post("/api/auth/api-keys", json=body, headers=bearer(owner_token))
    assert created.status_code == 201, created.text
    key = created.json()
    exchanged = await auth.post(
        "/internal/api-keys/exchange",
        json={"apiKey": key["key"]},
        headers=bearer(await service_token(auth, "gateway")),
    )
    assert exchanged.status_code == 200, exchanged.text
    return {
        "token": exchanged.json()["accessToken"],
        "owner_token": owner_token,
        "key_id": key["id"],
    }


async def reserve(client, holder, tokens=1000, session="s-1", **extra):
    return await client.post(
        "/api/streaming-sessions/initialize",
        json={"sessionId": session, "modelId": HAIKU, "estimatedTokens": tokens, **extra},
        headers=on_behalf(holder),
    )


async def settle(client, holder, streaming_session_id, path="finalize", **tokens):
    return await client.post(
        f"/api/streaming-sessions/{path}",
        json={"streamingSessionId": streaming_session_id, **tokens},
        headers=on_behalf(holder),
    )


@dataclass(frozen=True)
class KeySpend:
    spent_micro: int
    held_micro: int
    budget_micro: int | None


async def key_spend(db: asyncpg.Pool, key_id: str) -> KeySpend | None:
    row = await db.fetchrow(
        "SELECT spent_micro, held_micro, budget_micro FROM key_spend WHERE key_id = $1",
        uuid.UUID(key_id),
    )
    return None if row is None else KeySpend(**dict(row))


async def account_of(db: asyncpg.Pool, holder: dict) -> uuid.UUID:
    account_id: uuid.UUID = await db.fetchval(
        "SELECT id FROM accounts WHERE owner_type = 'user' AND owner_id = $1", holder["id"]
    )
    return account_id


async def reserve_in_sql(
    conn, holder: dict, account_id: uuid.UUID, budget_micro: int | None, amount_micro: int
) -> asyncpg.Record:
    """One reservation of the holder's key straight at the ledger function, in its own
    transaction (or the caller's), as another replica would make it."""
    row = await conn.fetchrow(
        "SELECT id, ok, available, refusal, key_spent, key_held FROM ledger_reserve_for_key("
        "$1, $2, $3, $4, $5, 's', $6, 1000, $7, now() + interval '5 minutes'), "
        "(SELECT $1::uuid AS id) reservation",
        uuid.uuid4(),
        account_id,
        uuid.UUID(holder["key_id"]),
        budget_micro,
        holder["id"],
        HAIKU,
        amount_micro,
    )
    assert row is not None
    return row
