"""Every query on organizations."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from provisioning.database import Connection
from provisioning.memberships.schemas import OrgRole

_COLUMNS = "o.id, o.slug, o.name, o.owner_id, o.created_at, o.updated_at"


@dataclass(frozen=True)
class Organization:
    id: UUID
    slug: str
    name: str
    owner_id: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class OrganizationAndRole:
    organization: Organization
    role: OrgRole | None  # the user's role in it (None: not a member)


def _organization(record: asyncpg.Record) -> Organization:
    return Organization(
        id=record["id"],
        slug=record["slug"],
        name=record["name"],
        owner_id=record["owner_id"],
        created_at=record["created_at"],
        updated_at=record["updated_at"],
    )


def _with_role(record: asyncpg.Record) -> OrganizationAndRole:
    return OrganizationAndRole(_organization(record), record["role"])


async def slug_taken(conn: Connection, slug: str) -> bool:
    taken: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM organizations WHERE slug = $1)", slug
    )
    return taken


async def insert(conn: Connection, *, slug: str, name: str, owner_id: str) -> Organization:
    """Raises UniqueViolationError when the slug is taken."""
    record = await conn.fetchrow(
        f"""
        INSERT INTO organizations AS o (id, slug, name, owner_id) VALUES ($1, $2, $3, $4)
        RETURNING {_COLUMNS}
        """,
        uuid.uuid4(),
        slug,
        name,
        owner_id,
    )
    assert record is not None  # INSERT ... RETURNING without ON CONFLICT returns its row
    return _organization(record)


async def live(conn: Connection, org_id: UUID) -> Organization | None:
    record = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM organizations o WHERE o.id = $1 AND o.deleted_at IS NULL", org_id
    )
    return None if record is None else _organization(record)


async def for_member(conn: Connection, user_id: str) -> list[OrganizationAndRole]:
    records = await conn.fetch(
        f"""
        SELECT {_COLUMNS}, m.role FROM organizations o
        JOIN memberships m ON m.organization_id = o.id AND m.user_id = $1
        WHERE o.deleted_at IS NULL ORDER BY o.created_at
        """,
        user_id,
    )
    return [_with_role(record) for record in records]


async def every_live(conn: Connection, user_id: str) -> list[OrganizationAndRole]:
    """Every live organization, with ``user_id``'s role in those they belong to."""
    records = await conn.fetch(
        f"""
        SELECT {_COLUMNS}, m.role FROM organizations o
        LEFT JOIN memberships m ON m.organization_id = o.id AND m.user_id = $1
        WHERE o.deleted_at IS NULL ORDER BY o.created_at
        """,
        user_id,
    )
    return [_with_role(record) for record in records]


async def rename(conn: Connection, org_id: UUID, name: str) -> Organization:
    """The caller holds the organization (it exists)."""
    record = await conn.fetchrow(
        f"""
        UPDATE organizations AS o SET name = $2, updated_at = now() WHERE id = $1
        RETURNING {_COLUMNS}
        """,
        org_id,
        name,
    )
    assert record is not None
    return _organization(record)


async def soft_delete(conn: Connection, org_id: UUID) -> None:
    await conn.execute(
        "UPDATE organizations SET deleted_at = now(), updated_at = now() WHERE id = $1", org_id
    )
