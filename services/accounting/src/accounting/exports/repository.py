"""The export's one query: usage records over a range added up by the dimensions asked for,
read through a server-side cursor a batch at a time."""

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

import asyncpg

from accounting.database import Connection
from accounting.exports.schemas import DIMENSIONS, Dimension

# Each dimension's expression over usage_records u joined with its paying account a. A team's
# account is owned by the team (owner_id is the team's id); a user's own usage has no team.
_EXPRESSIONS: dict[Dimension, str] = {
    "day": "(u.created_at AT TIME ZONE 'UTC')::date",
    "user": "u.user_id",
    "team": "CASE WHEN a.owner_type = 'team' THEN a.owner_id END",
    "key": "u.key_id",
    "model": "u.model_id",
}


@dataclass(frozen=True)
class OfUser:
    """The usage made for one user, whichever account paid."""

    user_id: str


@dataclass(frozen=True)
class OfAccounts:
    """The usage these accounts paid for (an organization's teams'), whoever made it."""

    account_ids: tuple[UUID, ...]


Subject = OfUser | OfAccounts


@dataclass(frozen=True)
class UsageGroup:
    """Usage records added up for one combination of the grouped dimensions; a dimension not
    grouped by is None."""

    day: date | None
    user_id: str | None
    team_id: str | None
    key_id: UUID | None
    model_id: str | None
    requests: int
    input_tokens: int
    output_tokens: int
    credits_micro: int


def export_query(group_by: tuple[Dimension, ...], subject: Subject) -> str:
    """The query for these dimensions, over ``$1 <= created_at < $2`` of ``$3``: the user's id
    or the accounts' ids, as ``subject`` says.

    Only the constant expressions above are interpolated; every value is a parameter."""
    columns = ", ".join(
        f'{_EXPRESSIONS[d] if d in group_by else "NULL"} AS "{d}"' for d in DIMENSIONS
    )
    grouped = ", ".join(str(DIMENSIONS.index(d) + 1) for d in group_by)
    clauses = f"GROUP BY {grouped} ORDER BY {grouped}" if group_by else "HAVING count(*) > 0"
    whose = "u.user_id = $3" if isinstance(subject, OfUser) else "u.account_id = ANY($3::uuid[])"
    return f"""
        SELECT {columns},
               count(*) AS requests,
               coalesce(sum(u.input_tokens), 0)::bigint AS input_tokens,
               coalesce(sum(u.output_tokens), 0)::bigint AS output_tokens,
               coalesce(sum(u.credits_micro), 0)::bigint AS credits
        FROM usage_records u JOIN accounts a ON a.id = u.account_id
        WHERE u.created_at >= $1 AND u.created_at < $2 AND {whose}
        {clauses}
    """


def _group(row: asyncpg.Record) -> UsageGroup:
    return UsageGroup(
        day=row["day"],
        user_id=row["user"],
        team_id=row["team"],
        key_id=row["key"],
        model_id=row["model"],
        requests=row["requests"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        credits_micro=row["credits"],
    )


async def usage_groups(
    conn: Connection,
    group_by: tuple[Dimension, ...],
    *,
    start: datetime,
    end: datetime,
    subject: Subject,
    batch_rows: int,
) -> AsyncGenerator[list[UsageGroup], None]:
    """The groups in batches of at most ``batch_rows``, as PostgreSQL produces them. Runs in
    the caller's transaction (a cursor needs one), so every batch is of one snapshot."""
    whose = subject.user_id if isinstance(subject, OfUser) else list(subject.account_ids)
    cursor = await conn.cursor(export_query(group_by, subject), start, end, whose)
    while batch := await cursor.fetch(batch_rows):
        groups = [_group(row) for row in batch]
        del batch  # not kept while the caller sends this batch on
        yield groups


async def limit_idle_transaction(conn: Connection, seconds: float) -> None:
    """End the caller's transaction (and its session) once it has been idle ``seconds``."""
    await conn.execute(
        "SELECT set_config('idle_in_transaction_session_timeout', $1, true)",
        str(max(1, round(seconds * 1000))),
    )
