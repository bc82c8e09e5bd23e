"""Every query on the revocations table."""

from datetime import datetime

import asyncpg


async def record_user(conn: asyncpg.Connection, user_id: str, token_version: int) -> None:
    await conn.execute(
        "INSERT INTO revocations (kind, subject, token_version) VALUES ('user', $1, $2)",
        user_id,
        token_version,
    )


async def record_key(conn: asyncpg.Connection, key_id: str, effective_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO revocations (kind, subject, effective_at) VALUES ('key', $1, $2)",
        key_id,
        effective_at,
    )


async def record_organization(conn: asyncpg.Connection, organization_id: str) -> None:
    await conn.execute(
        "INSERT INTO revocations (kind, subject) VALUES ('organization', $1)", organization_id
    )


async def recent(conn: asyncpg.Connection, seconds: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT kind, subject, token_version, extract(epoch FROM effective_at) AS effective_at
        FROM revocations WHERE created_at > now() - make_interval(secs => $1)
        ORDER BY id
        """,
        seconds,
    )
