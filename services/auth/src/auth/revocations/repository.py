"""Every query on the revocations table, and the row it returns."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from auth.database import Connection


@dataclass(frozen=True, slots=True)
class Revocation:
    """A user's tokens below ``token_version``, a key's tokens from ``effective_at`` (a
    rotated key's grace end), or an organization's tokens."""

    kind: Literal["user", "key", "organization"]
    subject: str
    token_version: int | None
    effective_at: float  # seconds since the epoch, as tokens' claims count time


async def record_user(conn: Connection, user_id: str, token_version: int) -> None:
    await conn.execute(
        "INSERT INTO revocations (kind, subject, token_version) VALUES ('user', $1, $2)",
        user_id,
        token_version,
    )


async def record_key(conn: Connection, key_id: str, effective_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO revocations (kind, subject, effective_at) VALUES ('key', $1, $2)",
        key_id,
        effective_at,
    )


async def record_organization(conn: Connection, organization_id: str) -> None:
    await conn.execute(
        "INSERT INTO revocations (kind, subject) VALUES ('organization', $1)", organization_id
    )


async def recent(conn: Connection, seconds: int) -> list[Revocation]:
    """The revocations recorded in the last ``seconds``, oldest first."""
    rows = await conn.fetch(
        """
        SELECT kind, subject, token_version, extract(epoch FROM effective_at) AS effective_at
        FROM revocations WHERE created_at > now() - make_interval(secs => $1)
        ORDER BY id
        """,
        seconds,
    )
    return [
        Revocation(
            kind=row["kind"],
            subject=row["subject"],
            token_version=row["token_version"],
            # extract() answers numeric, which asyncpg reads as a Decimal
            effective_at=float(row["effective_at"]),
        )
        for row in rows
    ]
