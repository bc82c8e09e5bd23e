"""What auth tells the services (and itself) about revoked tokens.

Each revocation is written in the same transaction as its cause, with its bus event in the
outbox: ``user.updated`` (with the new ``tokenVersion``), ``api_key.revoked`` (``teamId`` or
``userId``; ``effectiveAt``: a rotated key's grace end), ``organization.deleted`` (auth revokes
that organization's keys).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from auth.revocations import repository
from event_bus import enqueue, new_event


async def revoke_user_tokens(conn: asyncpg.Connection, row: asyncpg.Record) -> None:
    """``row``: the user just updated, its token version already raised."""
    await repository.record_user(conn, str(row["id"]), row["token_version"])
    await enqueue(
        conn,
        new_event(
            "user.updated",
            {
                "userId": str(row["id"]),
                "role": row["role"],
                "disabled": row["disabled"],
                "tokenVersion": row["token_version"],
            },
        ),
    )


async def revoke_key(conn: asyncpg.Connection, key: asyncpg.Record, effective_at: datetime) -> None:
    """``key``: a team's (``teamId`` in the event) or a user's (``userId``)."""
    await repository.record_key(conn, str(key["id"]), effective_at)
    owner = (
        {"teamId": key["team_id"]} if key["user_id"] is None else {"userId": str(key["user_id"])}
    )
    await enqueue(
        conn,
        new_event(
            "api_key.revoked",
            {"keyId": str(key["id"]), **owner, "effectiveAt": effective_at.timestamp()},
        ),
    )


@dataclass
class RevocationsService:
    pool: asyncpg.Pool
    retention_seconds: int

    async def snapshot(self) -> dict[str, Any]:
        """The revocations a token still alive could be refused for, as ``Revocations.merge``
        takes them."""
        async with self.pool.acquire() as conn:
            rows = await repository.recent(conn, self.retention_seconds)
        users: dict[str, int] = {}
        keys: dict[str, float] = {}
        organizations: list[str] = []
        for row in rows:
            if row["kind"] == "user":
                users[row["subject"]] = max(users.get(row["subject"], 0), row["token_version"])
            elif row["kind"] == "key":
                at = float(row["effective_at"])
                keys[row["subject"]] = min(keys.get(row["subject"], at), at)
            else:
                organizations.append(row["subject"])
        return {"users": users, "keys": keys, "organizations": organizations}
