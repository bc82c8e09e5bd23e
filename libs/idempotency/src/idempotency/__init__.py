"""``Idempotency-Key`` for POST routes that create something or move credits.

A route takes :data:`IdempotencyKey` (``None`` when the header is absent; a value outside 1-255
characters is FastAPI's 422). In the transaction that does the work, the service calls
:func:`claim` first: a :class:`StoredResponse` means the same caller already sent this key with
this body, and the route answers it again with :meth:`StoredResponse.response`
(``replayed=True``). ``None`` means the key is now this request's: the service does the work and
calls :func:`record` with the response before the transaction commits, so the work and the key
are kept together or not at all. A refused request (its transaction rolled back) leaves no key
behind, and a retry runs again.

The same key with another body, or on another path → 422 ``idempotency_key_reused``. Two
requests with one key at once: the second waits on the first's row lock (up to
:data:`IN_PROGRESS_WAIT`) and then replays its response; past that wait it is 409
``idempotency_key_in_progress``. Keys are kept :data:`KEY_TTL` (24 h); each new claim deletes a
few expired rows, so the table does not grow without a sweeper.

:class:`Once` binds the key to its caller and success status for a service that does the work
in one transaction (``once.claim(conn)``, ``once.record(conn, model)``); the route answers with
:func:`answer` and documents itself with :func:`idempotent_responses` and
:data:`REPLAY_DESCRIPTION`. A subclass of :class:`Once` may keep responses otherwise (sealed).

Apply :data:`MIGRATIONS` with the service's own (``pg_migrations``).
"""

from idempotency.keys import IdempotencyKey, IdempotentRequest, idempotent_request
from idempotency.once import REPLAY_DESCRIPTION, Once, answer, idempotent_responses
from idempotency.responses import (
    IDEMPOTENCY_RESPONSES,
    REPLAYED_HEADER,
    StoredResponse,
    replayed_header_doc,
)
from idempotency.store import IN_PROGRESS_WAIT, KEY_TTL, PURGE_BATCH, claim, record
from pg_migrations import package_migrations

MIGRATIONS = package_migrations("idempotency")  # src/idempotency/migrations

__all__ = [
    "IDEMPOTENCY_RESPONSES",
    "IN_PROGRESS_WAIT",
    "KEY_TTL",
    "MIGRATIONS",
    "PURGE_BATCH",
    "REPLAYED_HEADER",
    "REPLAY_DESCRIPTION",
    "IdempotencyKey",
    "IdempotentRequest",
    "Once",
    "StoredResponse",
    "answer",
    "claim",
    "idempotent_request",
    "idempotent_responses",
    "record",
    "replayed_header_doc",
]
