"""Every query on the users table."""

from uuid import UUID

import asyncpg

_COLUMNS = (
    "id, username, email, password_hash, role, disabled, token_version, created_at, updated_at"
)


async def insert(
    conn: asyncpg.Connection,
    *,
    user_id: UUID,
    username: str,
    email: str,
    password_hash: str,
    role: str,
) -> asyncpg.Record | None:
    """Insert a user; None when the username or email is already taken."""
    return await conn.fetchrow(
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


async def taken(conn: asyncpg.Connection, username: str, email: str) -> tuple[bool, bool]:
    row = await conn.fetchrow(
        """
        SELECT bool_or(lower(username) = lower($1)) AS username_taken,
               bool_or(lower(email) = lower($2)) AS email_taken
        FROM users WHERE lower(username) = lower($1) OR lower(email) = lower($2)
        """,
        username,
        email,
    )
    return bool(row["username_taken"]), bool(row["email_taken"])


async def by_login(conn: asyncpg.Connection, login: str) -> asyncpg.Record | None:
    """The user whose username, or email when ``login`` has an '@', is ``login``."""
    column = "email" if "@" in login else "username"
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM users WHERE lower({column}) = lower($1)", login
    )


async def by_id(conn: asyncpg.Connection, user_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1", user_id)


async def lock(conn: asyncpg.Connection, user_id: UUID) -> asyncpg.Record | None:
    """The user's row, locked until the transaction ends (serialises concurrent changes)."""
    return await conn.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1 FOR UPDATE", user_id)


async def page(
    conn: asyncpg.Connection, *, offset: int, limit: int, role: str | None, search: str | None
) -> tuple[list[asyncpg.Record], int]:
    where = (
        "($1::text IS NULL OR role = $1) "
        "AND ($2::text IS NULL OR username ILIKE $2 OR email ILIKE $2 OR id::text = $5)"
    )
    pattern = f"%{_escape_like(search)}%" if search else None
    exact = search.strip().lower() if search else None
    total = await conn.fetchval(
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
    return rows, total


async def update(
    conn: asyncpg.Connection, user_id: UUID, *, role: str | None, disabled: bool | None
) -> asyncpg.Record | None:
    return await conn.fetchrow(
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


async def update_password_hash(conn: asyncpg.Connection, user_id: UUID, password_hash: str) -> None:
    await conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
