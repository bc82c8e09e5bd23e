"""Every query on invitations. An invitation is open while its status is 'pending' and it has
not expired; one of a soft-deleted organization is never found by its invitee."""

import uuid
from datetime import timedelta
from uuid import UUID

import asyncpg

_COLUMNS = """i.id, i.organization_id, i.email, i.role, i.invited_by,
              i.invited_by_name AS invited_by_username, i.created_at, i.expires_at,
              i.status, i.responded_by, i.responded_at"""
_OPEN = "i.status = 'pending' AND i.expires_at > now()"


async def close_expired(conn: asyncpg.Connection, org_id: UUID, email: str) -> None:
    """Mark the address's expired invitations to the organization so a new one may be made."""
    await conn.execute(
        """
        UPDATE invitations SET status = 'expired'
        WHERE organization_id = $1 AND lower(email) = lower($2)
          AND status = 'pending' AND expires_at <= now()
        """,
        org_id,
        email,
    )


async def insert(
    conn: asyncpg.Connection,
    *,
    org_id: UUID,
    email: str,
    role: str,
    invited_by: str,
    invited_by_name: str | None,
    ttl: timedelta,
) -> asyncpg.Record | None:
    """The new invitation, or None when the address already has an open one to this
    organization."""
    return await conn.fetchrow(
        f"""
        INSERT INTO invitations AS i
            (id, organization_id, email, role, invited_by, invited_by_name, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, now() + $7::interval)
        ON CONFLICT DO NOTHING
        RETURNING {_COLUMNS}
        """,
        uuid.uuid4(),
        org_id,
        email,
        role,
        invited_by,
        invited_by_name,
        ttl,
    )


async def open_of_org(conn: asyncpg.Connection, org_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM invitations i
        WHERE i.organization_id = $1 AND {_OPEN} ORDER BY i.created_at, i.id
        """,
        org_id,
    )


async def open_of_org_locked(
    conn: asyncpg.Connection, org_id: UUID, invitation_id: UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM invitations i
        WHERE i.id = $1 AND i.organization_id = $2 AND {_OPEN}
        FOR UPDATE
        """,
        invitation_id,
        org_id,
    )


async def open_for_address(conn: asyncpg.Connection, email: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT {_COLUMNS}, o.slug AS organization_slug, o.name AS organization_name
        FROM invitations i JOIN organizations o ON o.id = i.organization_id
        WHERE lower(i.email) = lower($1) AND {_OPEN} AND o.deleted_at IS NULL
        ORDER BY i.created_at, i.id
        """,
        email,
    )


async def for_address_locked(
    conn: asyncpg.Connection, invitation_id: UUID, email: str
) -> asyncpg.Record | None:
    """The invitation if it was made out to ``email`` and its organization is live, whatever
    its status, locked; the organization row is share-locked so it cannot be deleted until
    the caller's transaction ends."""
    return await conn.fetchrow(
        f"""
        SELECT {_COLUMNS}, o.slug AS organization_slug, o.name AS organization_name,
               i.expires_at <= now() AS expired
        FROM invitations i JOIN organizations o ON o.id = i.organization_id
        WHERE i.id = $1 AND lower(i.email) = lower($2) AND o.deleted_at IS NULL
        FOR UPDATE OF i FOR SHARE OF o
        """,
        invitation_id,
        email,
    )


async def close(
    conn: asyncpg.Connection, invitation_id: UUID, *, status: str, by: str
) -> asyncpg.Record:
    return await conn.fetchrow(
        f"""
        UPDATE invitations AS i SET status = $2, responded_by = $3, responded_at = now()
        WHERE i.id = $1
        RETURNING {_COLUMNS}
        """,
        invitation_id,
        status,
        by,
    )
