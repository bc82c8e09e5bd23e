"""Usage statistics queries."""

import asyncpg

_SUMS = """
    coalesce(sum(credits_micro), 0)::bigint AS credits,
    coalesce(sum(input_tokens), 0)::bigint AS input_tokens,
    coalesce(sum(output_tokens), 0)::bigint AS output_tokens,
    count(*) AS requests
"""
_WINDOW = "created_at >= now() - make_interval(days => $1) AND ($2::text IS NULL OR user_id = $2)"


async def totals(conn: asyncpg.Connection, days: int, user_id: str | None) -> asyncpg.Record:
    return await conn.fetchrow(f"SELECT {_SUMS} FROM usage_records WHERE {_WINDOW}", days, user_id)


async def by_model(
    conn: asyncpg.Connection, days: int, user_id: str | None
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT model_id, {_SUMS} FROM usage_records WHERE {_WINDOW} "
        "GROUP BY model_id ORDER BY credits DESC, model_id",
        days,
        user_id,
    )


async def by_day(conn: asyncpg.Connection, days: int, user_id: str | None) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT (created_at AT TIME ZONE 'UTC')::date AS date, {_SUMS} FROM usage_records "
        f"WHERE {_WINDOW} GROUP BY 1 ORDER BY 1",
        days,
        user_id,
    )


async def top_users(conn: asyncpg.Connection, days: int, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT u.user_id, max(a.username) AS username, {_SUMS}
        FROM usage_records u JOIN accounts a ON a.id = u.account_id
        WHERE u.created_at >= now() - make_interval(days => $1)
        GROUP BY u.user_id ORDER BY credits DESC, u.user_id LIMIT $2
        """,
        days,
        limit,
    )


async def distinct_users(conn: asyncpg.Connection, days: int) -> int:
    return await conn.fetchval(
        "SELECT count(DISTINCT user_id) FROM usage_records "
        "WHERE created_at >= now() - make_interval(days => $1)",
        days,
    )
