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

from auth.api_keys.repository import ApiKey
from auth.database import Connection
from auth.revocations import repository
from auth.users.repository import User
from bus_events import ApiKeyRevoked, UserUpdated, event_of
from event_bus import enqueue


async def revoke_user_tokens(conn: Connection, user: User) -> None:
    """``user``: just updated, its token version already raised."""
    await repository.record_user(conn, str(user.id), user.token_version)
    updated = UserUpdated(
        user_id=str(user.id),
        role=user.role,
        disabled=user.disabled,
        token_version=user.token_version,
    )
    await enqueue(conn, event_of(updated))


async def revoke_key(conn: Connection, key: ApiKey, effective_at: datetime) -> None:
    """``key``: a team's (``teamId`` in the event) or a user's (``userId``)."""
    await repository.record_key(conn, str(key.id), effective_at)
    revoked = ApiKeyRevoked(
        key_id=str(key.id),
        team_id=key.team_id if key.user_id is None else None,
        user_id=None if key.user_id is None else str(key.user_id),
        effective_at=effective_at.timestamp(),
    )
    await enqueue(conn, event_of(revoked))


@dataclass
class RevocationsService:
    pool: asyncpg.Pool
    retention_seconds: int

    async def snapshot(self) -> dict[str, Any]:
        """The revocations a token still alive could be refused for, as ``Revocations.merge``
        takes them."""
        async with self.pool.acquire() as conn:
            revocations = await repository.recent(conn, self.retention_seconds)
        users: dict[str, int] = {}
        keys: dict[str, float] = {}
        organizations: list[str] = []
        for revoked in revocations:
            subject = revoked.subject
            if revoked.kind == "user":
                # A user's revocation always has its version; 0 would refuse nothing.
                users[subject] = max(users.get(subject, 0), revoked.token_version or 0)
            elif revoked.kind == "key":
                at = revoked.effective_at
                keys[subject] = min(keys.get(subject, at), at)
            else:
                organizations.append(subject)
        return {"users": users, "keys": keys, "organizations": organizations}
