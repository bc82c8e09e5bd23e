"""Claiming a key and recording its response, inside the caller's transaction."""

from datetime import timedelta

import asyncpg

from idempotency.keys import IdempotentRequest
from idempotency.responses import StoredResponse
from pg_migrations import Connection
from service_kit import ApiError

KEY_TTL = timedelta(hours=24)
# How long a request waits for another one holding its key before it is 409.
IN_PROGRESS_WAIT = timedelta(seconds=5)
# Expired rows deleted by each new claim: more than one, so the table shrinks after a burst.
PURGE_BATCH = 10

_CLAIM = """
INSERT INTO idempotency_keys AS k (caller, key, route, request_sha256, expires_at)
VALUES ($1, $2, $3, $4, now() + $5::interval)
ON CONFLICT (caller, key) DO UPDATE
   SET route = EXCLUDED.route, request_sha256 = EXCLUDED.request_sha256,
       status_code = NULL, body = NULL, content_type = NULL,
       created_at = now(), expires_at = EXCLUDED.expires_at
 WHERE k.expires_at <= now()
RETURNING true
"""

_KEPT = """
SELECT route, request_sha256, status_code, body, content_type
  FROM idempotency_keys WHERE caller = $1 AND key = $2
"""

# SKIP LOCKED: a purge never waits on, nor blocks, a request re-claiming an expired key.
_PURGE = """
DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM idempotency_keys WHERE expires_at <= now()
     ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED))
"""

_RECORD = """
UPDATE idempotency_keys SET status_code = $3, body = $4, content_type = $5
 WHERE caller = $1 AND key = $2
"""


def key_reused() -> ApiError:
    return ApiError(
        422, "idempotency_key_reused", "This Idempotency-Key was already used with another body"
    )


def key_in_progress() -> ApiError:
    return ApiError(
        409,
        "idempotency_key_in_progress",
        "A request with this Idempotency-Key is still running: retry shortly",
        headers={"Retry-After": "1"},
    )


async def claim(conn: Connection, caller: str, request: IdempotentRequest) -> StoredResponse | None:
    """Take the key for this request, or the response it already got (``caller``'s own keys
    only). Call inside the transaction that does the work: ``None`` means do it, then
    :func:`record`. Raises 422 ``idempotency_key_reused`` or 409 ``idempotency_key_in_progress``.
    """
    # A concurrent claim of the same key waits for this transaction on the row; bounded here
    # only, so the work after the claim keeps the connection's own lock timeout.
    previous = await conn.fetchval(
        "SELECT current_setting('lock_timeout'), set_config('lock_timeout', $1, true)",
        f"{int(IN_PROGRESS_WAIT.total_seconds() * 1000)}ms",
    )
    try:
        claimed = await conn.fetchval(
            _CLAIM, caller, request.key, request.route, request.body_sha256, KEY_TTL
        )
    except asyncpg.LockNotAvailableError:
        raise key_in_progress() from None
    await conn.execute("SELECT set_config('lock_timeout', $1, true)", previous)
    if claimed:
        await conn.execute(_PURGE, PURGE_BATCH)
        return None
    kept = await conn.fetchrow(_KEPT, caller, request.key)
    if kept is None or kept["status_code"] is None:
        raise key_in_progress()
    if (kept["route"], bytes(kept["request_sha256"])) != (request.route, request.body_sha256):
        raise key_reused()
    return StoredResponse(kept["status_code"], bytes(kept["body"]), kept["content_type"])


async def record(
    conn: Connection, caller: str, request: IdempotentRequest, response: StoredResponse
) -> None:
    """Keep the response of a claimed key, in the transaction that claimed it."""
    await conn.execute(
        _RECORD, caller, request.key, response.status_code, response.body, response.content_type
    )
