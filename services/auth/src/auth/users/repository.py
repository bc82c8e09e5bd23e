"""Every query on the users table, and the row it returns."""

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from uuid import UUID

import asyncpg

from auth.database import Connection
from jwt_contract import Role


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    username: str
    email: str
    password_hash: str = field(repr=False)
    role: Role
    disabled: bool
    # Raised by a role change or a disable: tokens carrying an older one are refused.
    token_version: int
    created_at: datetime
    updated_at: datetime


_COLUMNS = ", ".join(column.name for column in fields(User))


def _user(row: asyncpg.Record | None) -> User | None:
    return None if row is None else User(**row)


async def insert(
    conn: Connection,
    *,
    user_id: UUID,
    username: str,
    email: str,
    password_hash: str,
    role: Role,
) -> User | None:
    """Insert a user; None when the username or email is already taken."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO users (id, username, email, password_hash, role)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT DO NOTHING
        RETURNING {_COLUMNS}
        """,
        user_id,
        username,
        email,
        password_hash,
        role,
    )
    return _user(row)


async def taken(conn: Connection, username: str, email: str) -> tuple[bool, bool]:
    """Whether the username, and whether the email, is already registered (any case)."""
    row = await conn.fetchrow(
        """
        SELECT bool_or(lower(username) = lower($1)) AS username_taken,
               bool_or(lower(email) = lower($2)) AS email_taken
        FROM users WHERE lower(username) = lower($1) OR lower(email) = lower($2)
        """,
        username,
        email,
    )
    if row is None:  # an aggregate answers one row, of nulls when nothing matches
        return False, False
    return bool(row["username_taken"]), bool(row["email_taken"])


async def existing_usernames(conn: Connection, usernames: Sequence[str]) -> set[str]:
    """Which of ``usernames`` are taken, exactly as spelled."""
    rows = await conn.fetch(
        "SELECT username FROM users WHERE username = ANY($1::text[])", list(usernames)
    )
    return {row["username"] for row in rows}


async def by_login(conn: Connection, login: str) -> User | None:
    """The user whose username, or email when ``login`` has an '@', is ``login``."""
    column = "email" if "@" in login else "username"
    return _user(
        await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM users WHERE lower({column}) = lower($1)", login
        )
    )


async def by_id(conn: Connection, user_id: UUID) -> User | None:
    return _user(await conn.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1", user_id))


async def lock(conn: Connection, user_id: UUID) -> User | None:
    """The user's row, locked until the transaction ends (serialises concurrent changes)."""
    return _user(
        await conn.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1 FOR UPDATE", user_id)
    )


async def page(
    conn: Connection, *, offset: int, limit: int, role: Role | None, search: str | None
) -> tuple[list[User], int]:
    """One page of users, oldest first, and how many match in all."""
    where = (
        "($1::text IS NULL OR role = $1) "
        "AND ($2::text IS NULL OR username ILIKE $2 OR email ILIKE $2 OR id::text = $5)"
    )
    pattern = f"%{_escape_like(search)}%" if search else None
    exact = search.strip().lower() if search else None
    total: int = await conn.fetchval(
        f"SELECT count(*) FROM users WHERE {where.replace('$5', '$3')}", role, pattern, exact
    )
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM users WHERE {where} ORDER BY created_at, id OFFSET $3 LIMIT $4",
        role,
        pattern,
        offset,
        limit,
        exact,
    )
    return [User(**row) for row in rows], total


async def update(
    conn: Connection, user_id: UUID, *, role: Role | None, disabled: bool | None
) -> User | None:
    row = await conn.fetchrow(
        f"""
        UPDATE users
        SET role = coalesce($2, role), disabled = coalesce($3, disabled), updated_at = now(),
            -- A role change or a disable makes every token issued so far too old.
            token_version = token_version
                + (coalesce($2, role) IS DISTINCT FROM role
                   OR coalesce($3, disabled) IS DISTINCT FROM disabled)::int
        WHERE id = $1
        RETURNING {_COLUMNS}
        """,
        user_id,
        role,
        disabled,
    )
    return _user(row)


async def update_password_hash(conn: Connection, user_id: UUID, password_hash: str) -> None:
    await conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
