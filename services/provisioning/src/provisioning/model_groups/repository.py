"""Every query on model groups."""

import uuid

import asyncpg

_COLUMNS = "id, name, models, description, created_by, created_at"


async def insert(
    conn: asyncpg.Connection, *, name: str, models: list[str], description: str | None, by: str
) -> asyncpg.Record:
    """Raises UniqueViolationError when the name is taken."""
    return await conn.fetchrow(
        f"""
        INSERT INTO model_groups (id, name, models, description, created_by)
        VALUES ($1, $2, $3, $4, $5) RETURNING {_COLUMNS}
        """,
        uuid.uuid4(),
        name,
        models,
        description,
        by,
    )


async def every(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {_COLUMNS} FROM model_groups ORDER BY lower(name)")


async def by_names(conn: asyncpg.Connection, names: list[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_COLUMNS} FROM model_groups WHERE lower(name) = ANY($1::text[])",
        [name.lower() for name in names],
    )
