"""Every query on invitations. An invitation is open while its status is 'pending' and it has
not expired; one of a soft-deleted organization is never found by its invitee."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

import asyncpg

from provisioning.database import Connection
from provisioning.memberships.schemas import OrgRole

_COLUMNS = """i.id, i.organization_id, i.email, i.role, i.invited_by,
              i.invited_by_name AS invited_by_username, i.created_at, i.expires_at,
              i.expires_at <= now() AS expired, i.status, i.responded_by, i.responded_at"""
_OPEN = "i.status = 'pending' AND i.expires_at > now()"

InvitationStatus = Literal["pending", "accepted", "declined", "revoked", "expired"]


@dataclass(frozen=True)
class Invitation:
    id: UUID
    organization_id: UUID
    email: str  # as the inviter typed it
    role: OrgRole
    invited_by: str
    invited_by_username: str | None
    created_at: datetime
    expires_at: datetime
    expired: bool  # its time is up, whatever its status says
    status: InvitationStatus
    responded_by: str | None
    responded_at: datetime | None


@dataclass(frozen=True)
class InvitationToOrganization:
    """An invitation with the organization it is for, as its invitee sees it."""

    invitation: Invitation
    organization_slug: str
    organization_name: str


def _invitation(record: asyncpg.Record) -> Invitation:
    return Invitation(
        id=record["id"],
        organization_id=record["organization_id"],
        email=record["email"],
        role=record["role"],
        invited_by=record["invited_by"],
        invited_by_username=record["invited_by_username"],
        created_at=record["created_at"],
        expires_at=record["expires_at"],
        expired=record["expired"],
        status=record["status"],
        responded_by=record["responded_by"],
        responded_at=record["responded_at"],
    )


def _invitation_or_none(record: asyncpg.Record | None) -> Invitation | None:
    return None if record is None else _invitation(record)


async def close_expired(conn: Connection, org_id: UUID, email: str) -> None:
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
    conn: Connection,
    *,
    org_id: UUID,
    email: str,
    role: str,
    invited_by: str,
    invited_by_name: str | None,
    ttl: timedelta,
) -> Invitation | None:
    """The new invitation, or None when the address already has an open one to this
    organization."""
    record = await conn.fetchrow(
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
    return _invitation_or_none(record)


async def open_of_org(conn: Connection, org_id: UUID) -> list[Invitation]:
    records = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM invitations i
        WHERE i.organization_id = $1 AND {_OPEN} ORDER BY i.created_at, i.id
        """,
        org_id,
    )
    return [_invitation(record) for record in records]


async def open_of_org_locked(
    conn: Connection, org_id: UUID, invitation_id: UUID
) -> Invitation | None:
    record = await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM invitations i
        WHERE i.id = $1 AND i.organization_id = $2 AND {_OPEN}
        FOR UPDATE
        """,
        invitation_id,
        org_id,
    )
    return _invitation_or_none(record)


async def open_for_address(conn: Connection, email: str) -> list[InvitationToOrganization]:
    records = await conn.fetch(
        f"""
        SELECT {_COLUMNS}, o.slug AS organization_slug, o.name AS organization_name
        FROM invitations i JOIN organizations o ON o.id = i.organization_id
        WHERE lower(i.email) = lower($1) AND {_OPEN} AND o.deleted_at IS NULL
        ORDER BY i.created_at, i.id
        """,
        email,
    )
    return [
        InvitationToOrganization(
            _invitation(record), record["organization_slug"], record["organization_name"]
        )
        for record in records
    ]


async def for_address_locked(
    conn: Connection, invitation_id: UUID, email: str
) -> Invitation | None:
    """The invitation if it was made out to ``email`` and its organization is live, whatever
    its status, locked; the organization row is share-locked so it cannot be deleted until
    the caller's transaction ends."""
    record = await conn.fetchrow(
        f"""
        SELECT {_COLUMNS}
        FROM invitations i JOIN organizations o ON o.id = i.organization_id
        WHERE i.id = $1 AND lower(i.email) = lower($2) AND o.deleted_at IS NULL
        FOR UPDATE OF i FOR SHARE OF o
        """,
        invitation_id,
        email,
    )
    return _invitation_or_none(record)


async def close(
    conn: Connection, invitation_id: UUID, *, status: InvitationStatus, by: str
) -> None:
    await conn.execute(
        """
        UPDATE invitations AS i SET status = $2, responded_by = $3, responded_at = now()
        WHERE i.id = $1
        """,
        invitation_id,
        status,
        by,
    )
