"""Every query on user_mfa, mfa_backup_codes and mfa_challenges, and the rows they return."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from auth.database import Connection
from auth.two_factor.secret_box import Sealed
from jwt_contract import Role


@dataclass(frozen=True, slots=True)
class Factor:
    """A user's TOTP factor: set up, and enabled once a first code verified it."""

    user_id: UUID
    secret_key_id: str
    secret_ciphertext: bytes
    enabled_at: datetime | None
    last_used_step: int

    @property
    def enabled(self) -> bool:
        return self.enabled_at is not None

    @property
    def sealed(self) -> Sealed:
        return Sealed(self.secret_key_id, self.secret_ciphertext)


@dataclass(frozen=True, slots=True)
class BackupCode:
    id: UUID
    code_hash: str


@dataclass(frozen=True, slots=True)
class Challenge:
    """A password login waiting for its second factor."""

    user_id: UUID
    expires_at: datetime
    failed_attempts: int


_FACTOR = "user_id, secret_key_id, secret_ciphertext, enabled_at, last_used_step"


async def factor(conn: Connection, user_id: UUID) -> Factor | None:
    row = await conn.fetchrow(f"SELECT {_FACTOR} FROM user_mfa WHERE user_id = $1", user_id)
    return None if row is None else Factor(**row)


async def is_enabled(conn: Connection, user_id: UUID) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT enabled_at IS NOT NULL FROM user_mfa WHERE user_id = $1", user_id
        )
    )


async def role_and_enabled(conn: Connection, user_id: UUID) -> tuple[Role, bool] | None:
    """The user's current role and whether their 2FA is on; None for no such user."""
    row = await conn.fetchrow(
        "SELECT u.role, m.enabled_at IS NOT NULL AS enabled "
        "FROM users u LEFT JOIN user_mfa m ON m.user_id = u.id WHERE u.id = $1",
        user_id,
    )
    return None if row is None else (row["role"], bool(row["enabled"]))


async def save_pending(conn: Connection, user_id: UUID, sealed: Sealed) -> bool:
    """Set up a new secret, replacing one not verified yet; False when 2FA is already on."""
    saved = await conn.fetchval(
        """
        INSERT INTO user_mfa (user_id, secret_key_id, secret_ciphertext)
        VALUES ($1, $2, $3)
        ON CONFLICT (user_id) DO UPDATE
            SET secret_key_id = excluded.secret_key_id,
                secret_ciphertext = excluded.secret_ciphertext,
                last_used_step = -1,
                created_at = now()
            WHERE user_mfa.enabled_at IS NULL
        RETURNING true
        """,
        user_id,
        sealed.key_id,
        sealed.blob,
    )
    return bool(saved)


async def enable(conn: Connection, user_id: UUID, verified: Sealed, step: int) -> bool:
    """Turn on the secret that was verified (not one set up again meanwhile)."""
    result = await conn.execute(
        "UPDATE user_mfa SET enabled_at = now(), last_used_step = $3 "
        "WHERE user_id = $1 AND enabled_at IS NULL AND secret_ciphertext = $2",
        user_id,
        verified.blob,
        step,
    )
    return result == "UPDATE 1"


async def replace_backup_codes(conn: Connection, user_id: UUID, hashes: Sequence[str]) -> None:
    await conn.execute("DELETE FROM mfa_backup_codes WHERE user_id = $1", user_id)
    await conn.executemany(
        "INSERT INTO mfa_backup_codes (id, user_id, code_hash) VALUES ($1, $2, $3)",
        [(uuid4(), user_id, code_hash) for code_hash in hashes],
    )


async def unused_backup_codes(conn: Connection, user_id: UUID) -> list[BackupCode]:
    rows = await conn.fetch(
        "SELECT id, code_hash FROM mfa_backup_codes WHERE user_id = $1 AND used_at IS NULL",
        user_id,
    )
    return [BackupCode(**row) for row in rows]


async def use_step(conn: Connection, user_id: UUID, step: int) -> bool:
    """Record that a code of ``step`` was accepted; False when that step (or a later one)
    already was: a replayed code."""
    result = await conn.execute(
        "UPDATE user_mfa SET last_used_step = $2 "
        "WHERE user_id = $1 AND enabled_at IS NOT NULL AND last_used_step < $2",
        user_id,
        step,
    )
    return result == "UPDATE 1"


async def use_backup_code(conn: Connection, code_id: UUID) -> bool:
    """Spend a backup code; False when it was already spent."""
    result = await conn.execute(
        "UPDATE mfa_backup_codes SET used_at = now() WHERE id = $1 AND used_at IS NULL", code_id
    )
    return result == "UPDATE 1"


async def remove(conn: Connection, user_id: UUID) -> Factor | None:
    """Delete the user's factor, backup codes and waiting logins; the factor that was."""
    await conn.execute("DELETE FROM mfa_backup_codes WHERE user_id = $1", user_id)
    await conn.execute("DELETE FROM mfa_challenges WHERE user_id = $1", user_id)
    row = await conn.fetchrow(
        f"DELETE FROM user_mfa WHERE user_id = $1 RETURNING {_FACTOR}", user_id
    )
    return None if row is None else Factor(**row)


async def insert_challenge(
    conn: Connection, token_hash: bytes, user_id: UUID, ttl_seconds: int
) -> None:
    # The user's spent and expired challenges go with each new one: rows stay few.
    await conn.execute(
        "DELETE FROM mfa_challenges "
        "WHERE user_id = $1 AND (used_at IS NOT NULL OR expires_at < now())",
        user_id,
    )
    await conn.execute(
        "INSERT INTO mfa_challenges (token_hash, user_id, expires_at) "
        "VALUES ($1, $2, now() + make_interval(secs => $3))",
        token_hash,
        user_id,
        ttl_seconds,
    )


_LIVE = "used_at IS NULL AND expires_at > now() AND failed_attempts < $2"


async def live_challenge(
    conn: Connection, token_hash: bytes, max_attempts: int
) -> Challenge | None:
    """The challenge, while it is neither spent nor expired nor out of attempts."""
    row = await conn.fetchrow(
        f"SELECT user_id, expires_at, failed_attempts FROM mfa_challenges "
        f"WHERE token_hash = $1 AND {_LIVE}",
        token_hash,
        max_attempts,
    )
    return None if row is None else Challenge(**row)


async def spend_challenge(conn: Connection, token_hash: bytes, max_attempts: int) -> bool:
    """Spend a live challenge; False when it no longer is (spent by a concurrent success)."""
    result = await conn.execute(
        f"UPDATE mfa_challenges SET used_at = now() WHERE token_hash = $1 AND {_LIVE}",
        token_hash,
        max_attempts,
    )
    return result == "UPDATE 1"


async def count_failed_attempt(conn: Connection, token_hash: bytes) -> None:
    await conn.execute(
        "UPDATE mfa_challenges SET failed_attempts = failed_attempts + 1 WHERE token_hash = $1",
        token_hash,
    )


async def sealed_under_other_keys(conn: Connection, key_id: str, limit: int) -> list[Factor]:
    """Factors whose secret is sealed under another key than ``key_id`` (for re-encryption)."""
    rows = await conn.fetch(
        f"SELECT {_FACTOR} FROM user_mfa WHERE secret_key_id <> $1 ORDER BY user_id LIMIT $2",
        key_id,
        limit,
    )
    return [Factor(**row) for row in rows]


async def reseal(conn: Connection, factor: Factor, sealed: Sealed) -> bool:
    """Store ``factor``'s secret sealed anew, unless it changed since it was read."""
    result = await conn.execute(
        "UPDATE user_mfa SET secret_key_id = $3, secret_ciphertext = $4 "
        "WHERE user_id = $1 AND secret_ciphertext = $2",
        factor.user_id,
        factor.secret_ciphertext,
        sealed.key_id,
        sealed.blob,
    )
    return result == "UPDATE 1"
