-- Bring your own key: provider credentials a user stores for themselves (team_id null) or for
-- a team. The secret fields are one AES-256-GCM ciphertext (nonce, ciphertext, tag) under the
-- master key secret_key_id names, with the row's id as associated data; only last4 is kept in
-- the clear. Deleting a credential deletes its row: nothing of the secret is kept.
CREATE TABLE byok_credentials (
    id                 uuid        PRIMARY KEY,
    user_id            text,       -- the owner of a user's own credential
    team_id            uuid        REFERENCES teams (id),
    provider           text        NOT NULL
                       CHECK (provider IN ('openai', 'anthropic', 'bedrock', 'openai-compatible')),
    label              text        NOT NULL,
    base_url           text,
    last4              text        NOT NULL,
    secret_key_id      text        NOT NULL,
    secret_ciphertext  bytea       NOT NULL,
    created_by         text        NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((user_id IS NULL) <> (team_id IS NULL))
);
CREATE INDEX byok_credentials_of_user ON byok_credentials (user_id, provider, created_at)
    WHERE user_id IS NOT NULL;
CREATE INDEX byok_credentials_of_team ON byok_credentials (team_id, provider, created_at)
    WHERE team_id IS NOT NULL;
CREATE INDEX byok_credentials_key_id ON byok_credentials (secret_key_id);
