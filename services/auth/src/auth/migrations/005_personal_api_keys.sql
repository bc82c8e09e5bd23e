-- Personal API keys: a key is a team's (team_id and account_id, as before) or a user's
-- (user_id; charged to that user, acting as them). Team keys are unchanged.
-- No ON DELETE CASCADE: users are disabled, never deleted, and a key must not vanish without
-- its revocation being announced.
ALTER TABLE api_keys
    ALTER COLUMN team_id DROP NOT NULL,
    ALTER COLUMN account_id DROP NOT NULL,
    ADD COLUMN user_id uuid REFERENCES users (id),
    ADD COLUMN requests_per_minute integer
        CHECK (requests_per_minute BETWEEN 1 AND 100000),
    ADD CONSTRAINT api_keys_team_or_user CHECK (
        (user_id IS NULL AND team_id IS NOT NULL AND account_id IS NOT NULL)
        OR (user_id IS NOT NULL AND team_id IS NULL AND account_id IS NULL
            AND organization_id IS NULL)
    );
CREATE INDEX api_keys_by_user ON api_keys (user_id, created_at) WHERE user_id IS NOT NULL;
