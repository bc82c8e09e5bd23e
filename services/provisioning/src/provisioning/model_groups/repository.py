"""Every query on model groups."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from provisioning.database import Connection

_COLUMNS = "id, name, models, description, created_by, created_at"


@dataclass(frozen=True)
class ModelGroup:
    id: UUID
    name: str
    models: list[str]  # catalog model ids
    description: str | None
    created_by: str
    created_at: datetime


def _group(record: asyncpg.Record) -> ModelGroup:
    return ModelGroup(
        id=record["id"],
        name=record["name"],
        models=list(record["models"]),
        description=record["description"],
        created_by=record["created_by"],
        created_at=record["created_at"],
    )


async def insert(
    conn: Connection, *, name: str, models: list[str], description: str | None, by: str
) -> ModelGroup:
    """Raises UniqueViolationError when the name is taken."""
    record = await conn.fetchrow(
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
    assert record is not None  # INSERT ... RETURNING without ON CONFLICT returns its row
    return _group(record)


async def every(conn: Connection) -> list[ModelGroup]:
    records = await conn.fetch(f"SELECT {_COLUMNS} FROM model_groups ORDER BY lower(name)")
    return [_group(record) for record in records]


async def by_names(conn: Connection, names: list[str]) -> list[ModelGroup]:
    """The groups called ``names``, compared case-insensitively, in no particular order."""
    records = await conn.fetch(
        f"SELECT {_COLUMNS} FROM model_groups WHERE lower(name) = ANY($1::text[])",
        [name.lower() for name in names],
    )
    return [_group(record) for record in records]
