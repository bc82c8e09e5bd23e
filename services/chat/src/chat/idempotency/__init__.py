"""``Idempotency-Key`` on chat's creating POSTs (issue 14), kept in chat's MongoDB.

The idempotency lib keeps keys in PostgreSQL; chat has none, so ``KeyStore`` keeps them in
the ``idempotency_keys`` collection (unique on caller and key, a TTL index removes them 24 h
on) and reuses the lib's header, digest, responses and wait. MongoDB has no transaction
holding a row lock, so a key is claimed by inserting its document: the request whose insert
wins does the work; a concurrent one with the same key polls the document (up to the lib's
``IN_PROGRESS_WAIT``, then 409 ``idempotency_key_in_progress``). A claim is a lease: a
request that dies before it records anything leaves a claim others take over once it lapses,
with the same ``workId`` (the session's id), so the work is never done under two names. A
refused request gives its claim up, so a retry runs again.

An answer (``POST .../stream``, ``POST .../messages``) is never generated twice for a key:
its claim notes the answer's ``streamingSessionId`` as soon as credits are reserved, before
anything is generated, and a retry with the key is attached to that answer. A stream is
served again from its first event (the resume log while it keeps the answer, then the stored
answer); a whole answer is answered again from what was kept, or by following that answer.
"""
