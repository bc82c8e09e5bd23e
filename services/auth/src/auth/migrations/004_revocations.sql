-- Revocation within a second (CONTRACT.md): what makes tokens already issued invalid.
-- A user's token version goes up with a role change or a disable; access tokens carry it (tv)
-- and every service refuses an older one. A team key knows its organization, so deleting the
-- organization refuses its keys' tokens. Every revocation is also kept here for a day, so a
-- service that starts (or reconnects to the bus) reads what it did not hear.

ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN organization_id text;
CREATE INDEX api_keys_by_organization ON api_keys (organization_id) WHERE revoked_at IS NULL;

CREATE TABLE revocations (
    id             bigserial   PRIMARY KEY,
    kind           text        NOT NULL CHECK (kind IN ('user', 'key', 'organization')),
    subject        text        NOT NULL,
    token_version  integer,
    effective_at   timestamptz NOT NULL DEFAULT now(),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revocations_recent ON revocations (created_at);
