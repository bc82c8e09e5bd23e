"""Every query on teams."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from provisioning.database import Connection

_COLUMNS = "id, organization_id, name, model_groups, account_id, created_by, created_at"


@dataclass(frozen=True)
class Team:
    id: UUID
    organization_id: UUID
    name: str
    model_groups: list[str]  # the names of its model groups
    account_id: UUID  # its credit account in accounting
    created_by: str
    created_at: datetime


def _team(record: asyncpg.Record) -> Team:
    return Team(
        id=record["id"],
        organization_id=record["organization_id"],
        name=record["name"],
        model_groups=list(record["model_groups"]),
        account_id=record["account_id"],
        created_by=record["created_by"],
        created_at=record["created_at"],
    )


async def name_taken(conn: Connection, org_id: UUID, name: str) -> bool:
    taken: bool = await conn.fetchval(
        "SELECT EXISTS "
        "(SELECT 1 FROM teams WHERE organization_id = $1 AND lower(name) = lower($2))",
        org_id,
        name,
    )
    return taken


async def insert(
    conn: Connection,
    *,
    team_id: UUID,
    org_id: UUID,
    name: str,
    model_groups: list[str],
    account_id: UUID,
    by: str,
) -> Team:
    """Raises UniqueViolationError when the organization has a team of that name."""
    record = await conn.fetchrow(
        f"""
        INSERT INTO teams (id, organization_id, name, model_groups, account_id, created_by)
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLUMNS}
        """,
        team_id,
        org_id,
        name,
        model_groups,
        account_id,
        by,
    )
    assert record is not None  # INSERT ... RETURNING without ON CONFLICT returns its row
    return _team(record)


async def by_id(conn: Connection, team_id: UUID) -> Team | None:
    record = await conn.fetchrow(f"SELECT {_COLUMNS} FROM teams WHERE id = $1", team_id)
    return None if record is None else _team(record)


async def of_org(conn: Connection, org_id: UUID) -> list[Team]:
    records = await conn.fetch(
        f"SELECT {_COLUMNS} FROM teams WHERE organization_id = $1 ORDER BY created_at", org_id
    )
    return [_team(record) for record in records]


async def funding_audited(conn: Connection, team_id: UUID, funding_id: UUID) -> bool:
    """Whether the audit log has the team's funding by this transfer or allocation."""
    audited: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM audit_log WHERE action = 'team.funded' "
        "AND target_type = 'team' AND target_id = $1 "
        "AND (after->>'transferId' = $2 OR after->>'allocationId' = $2))",
        str(team_id),
        str(funding_id),
    )
    return audited
