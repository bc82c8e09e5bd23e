"""The inbox: which events a consumer has already applied, for exactly-once effects."""

from uuid import UUID

from pg_migrations import Connection


async def claim_event(conn: Connection, event_id: UUID, consumer: str) -> bool:
    """Record that ``consumer`` applies ``event_id``; False if it already has.

    Call it in the transaction that applies the effect, and skip the effect on False: the
    claim then commits or rolls back together with the effect. A concurrent transaction
    claiming the same event waits for this one and gets False if it commits.
    """
    if not conn.is_in_transaction():
        raise RuntimeError("claim_event must run inside the transaction that applies the effect")
    status = await conn.execute(
        "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        consumer,
        event_id,
    )
    return status == "INSERT 0 1"
