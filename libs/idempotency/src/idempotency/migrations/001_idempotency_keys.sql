-- One row per (caller, key): the request it was first used for and the response it got.
-- status_code is NULL only while the claiming transaction has not recorded its response; a
-- caller that claims and records in one transaction never commits such a row.
CREATE TABLE idempotency_keys (
    caller          text        NOT NULL,
    key             text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    route           text        NOT NULL,
    request_sha256  bytea       NOT NULL,
    status_code     integer,
    body            bytea,
    content_type    text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (caller, key)
);

-- The purge takes the oldest expired rows first.
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
