"""Plan assignments and the plan grants waiting to reach accounting."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from provisioning.database import Connection

# The calendar month a grant is for, in UTC: one grant per user per period.
PERIOD = "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM')"


@dataclass(frozen=True)
class PendingGrant:
    """A plan grant accounting has not accepted yet."""

    idempotency_key: str  # accounting grants once per key
    user_id: str
    username: str | None
    plan_id: UUID
    plan_version: int
    period: str  # the UTC calendar month, YYYY-MM
    amount_micro: int  # micro-credits
    attempts: int  # deliveries tried so far


async def assign(
    conn: Connection, *, user_id: str, username: str | None, plan_id: UUID, source: str
) -> bool:
    """Put the user on the plan unless they already have one; True when this call did."""
    status = await conn.execute(
        """
        INSERT INTO plan_assignments (user_id, username, plan_id, source) VALUES ($1, $2, $3, $4)
        ON CONFLICT (user_id) DO NOTHING
        """,
        user_id,
        username,
        plan_id,
        source,
    )
    return status.endswith(" 1")


async def add_grant(
    conn: Connection,
    *,
    user_id: str,
    username: str | None,
    plan_id: UUID,
    plan_version: int,
    amount_micro: int,
) -> str | None:
    """This period's grant for the user, pending (its idempotency key); None when one exists
    for the period."""
    key: str | None = await conn.fetchval(
        f"""
        INSERT INTO plan_grants (idempotency_key, user_id, username, plan_id, plan_version,
                                 period, amount_micro, status)
        SELECT 'plan-grant:' || $1 || ':' || {PERIOD}, $1, $2, $3, $4, {PERIOD}, $5, 'pending'
        ON CONFLICT DO NOTHING
        RETURNING idempotency_key
        """,
        user_id,
        username,
        plan_id,
        plan_version,
        amount_micro,
    )
    return key


async def add_missing_renewals(conn: Connection) -> int:
    """This period's grant for every assigned user who has none yet, at the version in force."""
    status = await conn.execute(
        f"""
        INSERT INTO plan_grants (idempotency_key, user_id, username, plan_id, plan_version,
                                 period, amount_micro, status)
        SELECT 'plan-grant:' || a.user_id || ':' || {PERIOD}, a.user_id, a.username, a.plan_id,
               v.version, {PERIOD}, v.monthly_micro, 'pending'
        FROM plan_assignments a
        JOIN LATERAL (
            SELECT version, monthly_micro FROM plan_versions
            WHERE plan_id = a.plan_id AND effective_from <= now()
            ORDER BY effective_from DESC, version DESC LIMIT 1
        ) v ON v.monthly_micro > 0
        WHERE NOT EXISTS (
            SELECT 1 FROM plan_grants g WHERE g.user_id = a.user_id AND g.period = {PERIOD}
        )
        ON CONFLICT DO NOTHING
        """
    )
    return int(status.rsplit(" ", 1)[-1])


async def due_grants(conn: Connection, limit: int) -> list[PendingGrant]:
    """Pending grants whose time has come, locked so that two workers never send one twice."""
    records = await conn.fetch(
        """
        SELECT idempotency_key, user_id, username, plan_id, plan_version, period, amount_micro,
               attempts
        FROM plan_grants WHERE status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
        """,
        limit,
    )
    return [
        PendingGrant(
            idempotency_key=record["idempotency_key"],
            user_id=record["user_id"],
            username=record["username"],
            plan_id=record["plan_id"],
            plan_version=record["plan_version"],
            period=record["period"],
            amount_micro=record["amount_micro"],
            attempts=record["attempts"],
        )
        for record in records
    ]


async def mark_granted(conn: Connection, key: str) -> None:
    await conn.execute(
        "UPDATE plan_grants SET status = 'granted', granted_at = now(), attempts = attempts + 1, "
        "last_error = NULL WHERE idempotency_key = $1",
        key,
    )


async def mark_failed(conn: Connection, key: str, error: str, retry_at: datetime) -> None:
    await conn.execute(
        "UPDATE plan_grants SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 "
        "WHERE idempotency_key = $1",
        key,
        error[:500],
        retry_at,
    )


async def pending_count(conn: Connection) -> int:
    pending: int = await conn.fetchval("SELECT count(*) FROM plan_grants WHERE status = 'pending'")
    return pending
