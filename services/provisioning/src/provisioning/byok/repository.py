"""Every query on byok_credentials, and the rows they return."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from provisioning.database import Connection
from sealed_secrets import Sealed


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose credential it is: a user's own, or a team's."""

    user_id: str | None
    team_id: UUID | None

    @property
    def lock_key(self) -> str:
        return f"byok:{self.user_id}" if self.team_id is None else f"byok:team:{self.team_id}"


@dataclass(frozen=True, slots=True)
class NewCredential:
    id: UUID
    user_id: str | None
    team_id: UUID | None
    provider: str
    label: str
    base_url: str | None
    last4: str
    sealed: Sealed
    created_by: str


@dataclass(frozen=True, slots=True)
class Credential:
    id: UUID
    user_id: str | None
    team_id: UUID | None
    provider: str
    label: str
    base_url: str | None
    last4: str
    secret_key_id: str
    secret_ciphertext: bytes
    created_by: str
    created_at: datetime

    @property
    def sealed(self) -> Sealed:
        return Sealed(self.secret_key_id, self.secret_ciphertext)


_COLUMNS = (
    "id, user_id, team_id, provider, label, base_url, last4, secret_key_id, secret_ciphertext, "
    "created_by, created_at"
)


async def lock_owner(conn: Connection, owner: Owner) -> None:
    """Serialize creations for one owner until the transaction ends (the count stays true)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", owner.lock_key)


async def count(conn: Connection, owner: Owner) -> int:
    counted: int = await conn.fetchval(
        "SELECT count(*) FROM byok_credentials "
        "WHERE user_id IS NOT DISTINCT FROM $1 AND team_id IS NOT DISTINCT FROM $2",
        owner.user_id,
        owner.team_id,
    )
    return counted


async def insert(conn: Connection, credential: NewCredential) -> Credential:
    row = await conn.fetchrow(
        f"""
        INSERT INTO byok_credentials (id, user_id, team_id, provider, label, base_url, last4,
                                      secret_key_id, secret_ciphertext, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        RETURNING {_COLUMNS}
        """,
        credential.id,
        credential.user_id,
        credential.team_id,
        credential.provider,
        credential.label,
        credential.base_url,
        credential.last4,
        credential.sealed.key_id,
        credential.sealed.blob,
        credential.created_by,
    )
    assert row is not None  # INSERT ... RETURNING
    return Credential(**row)


async def by_id(conn: Connection, credential_id: UUID) -> Credential | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM byok_credentials WHERE id = $1", credential_id
    )
    return None if row is None else Credential(**row)


async def of_owner(conn: Connection, owner: Owner) -> list[Credential]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM byok_credentials "
        "WHERE user_id IS NOT DISTINCT FROM $1 AND team_id IS NOT DISTINCT FROM $2 "
        "ORDER BY created_at, id",
        owner.user_id,
        owner.team_id,
    )
    return [Credential(**row) for row in rows]


async def newest_for(conn: Connection, owner: Owner, providers: Sequence[str]) -> Credential | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM byok_credentials "
        "WHERE user_id IS NOT DISTINCT FROM $1 AND team_id IS NOT DISTINCT FROM $2 "
        "AND provider = ANY($3::text[]) ORDER BY created_at DESC, id DESC LIMIT 1",
        owner.user_id,
        owner.team_id,
        list(providers),
    )
    return None if row is None else Credential(**row)


async def delete(conn: Connection, credential_id: UUID) -> bool:
    deleted = await conn.fetchval(
        "DELETE FROM byok_credentials WHERE id = $1 RETURNING true", credential_id
    )
    return bool(deleted)


async def sealed_under_other_keys(
    conn: Connection, current_key_id: str, limit: int
) -> list[Credential]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM byok_credentials WHERE secret_key_id <> $1 LIMIT $2",
        current_key_id,
        limit,
    )
    return [Credential(**row) for row in rows]


async def reseal(conn: Connection, credential: Credential, sealed: Sealed) -> int:
    """Rewrite the ciphertext only if it is still the one read; 1 when it was rewritten."""
    status = await conn.execute(
        "UPDATE byok_credentials SET secret_key_id = $2, secret_ciphertext = $3 "
        "WHERE id = $1 AND secret_key_id = $4 AND secret_ciphertext = $5",
        credential.id,
        sealed.key_id,
        sealed.blob,
        credential.secret_key_id,
        credential.secret_ciphertext,
    )
    return int(status.split()[-1])
