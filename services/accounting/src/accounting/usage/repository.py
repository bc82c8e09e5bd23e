"""Every read of usage_records: one charge by its event, and the statistics."""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg

from accounting.database import Connection


@dataclass(frozen=True)
class UsageRecord:
    """What one usage record charged, and what it could not (the account ran dry)."""

    id: int
    charged_micro: int
    unpaid_micro: int


@dataclass(frozen=True)
class UsageSums:
    """Usage records added up over a window."""

    credits_micro: int
    input_tokens: int
    output_tokens: int
    requests: int


@dataclass(frozen=True)
class ModelUsageSums:
    model_id: str | None
    sums: UsageSums


@dataclass(frozen=True)
class DayUsageSums:
    date: date  # in UTC
    sums: UsageSums


@dataclass(frozen=True)
class KeyUsageSums:
    """What was used with one API key over a window, and the key's lifetime figures."""

    key_id: UUID
    sums: UsageSums
    spent_micro: int
    held_micro: int
    budget_micro: int | None


@dataclass(frozen=True)
class UserUsageSums:
    user_id: str
    username: str | None
    sums: UsageSums


_SUMS = """
    coalesce(sum(credits_micro), 0)::bigint AS credits,
    coalesce(sum(input_tokens), 0)::bigint AS input_tokens,
    coalesce(sum(output_tokens), 0)::bigint AS output_tokens,
    count(*) AS requests
"""
_WINDOW = (
    "created_at >= now() - make_interval(days => $1) AND ($2::text IS NULL OR user_id = $2) "
    "AND ($3::uuid IS NULL OR key_id = $3)"
)


def _sums(row: asyncpg.Record) -> UsageSums:
    return UsageSums(
        credits_micro=row["credits"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        requests=row["requests"],
    )


async def by_event(conn: Connection, event_id: UUID) -> UsageRecord | None:
    row = await conn.fetchrow(
        "SELECT id, credits_micro, unpaid_micro FROM usage_records WHERE event_id = $1", event_id
    )
    if row is None:
        return None
    return UsageRecord(
        id=row["id"], charged_micro=row["credits_micro"], unpaid_micro=row["unpaid_micro"]
    )


async def totals(
    conn: Connection,
    days: int,
    user_id: str | None,
    key_id: UUID | None = None,
    *,
    byok_only: bool = False,
) -> UsageSums:
    """``byok_only``: only what was asked with the caller's own provider credential."""
    byok = " AND byok" if byok_only else ""
    row = await conn.fetchrow(
        f"SELECT {_SUMS} FROM usage_records WHERE {_WINDOW}{byok}", days, user_id, key_id
    )
    if row is None:  # an aggregate without GROUP BY always has its row
        raise RuntimeError("no usage totals")
    return _sums(row)


async def by_model(
    conn: Connection, days: int, user_id: str | None, key_id: UUID | None = None
) -> list[ModelUsageSums]:
    rows = await conn.fetch(
        f"SELECT model_id, {_SUMS} FROM usage_records WHERE {_WINDOW} "
        "GROUP BY model_id ORDER BY credits DESC, model_id",
        days,
        user_id,
        key_id,
    )
    return [ModelUsageSums(model_id=row["model_id"], sums=_sums(row)) for row in rows]


async def by_day(
    conn: Connection, days: int, user_id: str | None, key_id: UUID | None = None
) -> list[DayUsageSums]:
    rows = await conn.fetch(
        f"SELECT (created_at AT TIME ZONE 'UTC')::date AS date, {_SUMS} FROM usage_records "
        f"WHERE {_WINDOW} GROUP BY 1 ORDER BY 1",
        days,
        user_id,
        key_id,
    )
    return [DayUsageSums(date=row["date"], sums=_sums(row)) for row in rows]


async def by_key(
    conn: Connection, days: int, user_id: str | None, key_id: UUID | None = None
) -> list[KeyUsageSums]:
    """Usage made with API keys over the window, by key, with each key's lifetime spend,
    holds and budget (``key_spend``); usage without a key is not in it."""
    rows = await conn.fetch(
        f"""
        SELECT u.key_id, k.spent_micro, k.held_micro, k.budget_micro, u.credits,
               u.input_tokens, u.output_tokens, u.requests
        FROM (
            SELECT key_id, {_SUMS} FROM usage_records
            WHERE key_id IS NOT NULL AND {_WINDOW}
            GROUP BY key_id
        ) u JOIN key_spend k ON k.key_id = u.key_id
        ORDER BY u.credits DESC, u.key_id
        """,
        days,
        user_id,
        key_id,
    )
    return [
        KeyUsageSums(
            key_id=row["key_id"],
            sums=_sums(row),
            spent_micro=row["spent_micro"],
            held_micro=row["held_micro"],
            budget_micro=row["budget_micro"],
        )
        for row in rows
    ]


async def top_users(conn: Connection, days: int, limit: int) -> list[UserUsageSums]:
    rows = await conn.fetch(
        f"""
        SELECT u.user_id, max(a.username) AS username, {_SUMS}
        FROM usage_records u JOIN accounts a ON a.id = u.account_id
        WHERE u.created_at >= now() - make_interval(days => $1)
        GROUP BY u.user_id ORDER BY credits DESC, u.user_id LIMIT $2
        """,
        days,
        limit,
    )
    return [
        UserUsageSums(user_id=row["user_id"], username=row["username"], sums=_sums(row))
        for row in rows
    ]


async def distinct_users(conn: Connection, days: int) -> int:
    users: int = await conn.fetchval(
        "SELECT count(DISTINCT user_id) FROM usage_records "
        "WHERE created_at >= now() - make_interval(days => $1)",
        days,
    )
    return users
