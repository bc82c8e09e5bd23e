-- Team API keys. Only a SHA-256 of each key is kept: keys are 256 random bits, so a fast
-- hash is safe (nothing to brute-force) and lets every request be checked cheaply.
CREATE TABLE api_keys (
    id            uuid        PRIMARY KEY,
    team_id       text        NOT NULL,
    account_id    uuid        NOT NULL,
    name          text        NOT NULL,
    prefix        text        NOT NULL,
    key_hash      text        NOT NULL UNIQUE,
    models        text[],
    created_by    text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz,
    replaced_by   uuid
);
CREATE INDEX api_keys_by_team ON api_keys (team_id, created_at);
