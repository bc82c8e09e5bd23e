-- Two-factor authentication (TOTP, RFC 6238). One factor per user: set up (enabled_at null)
-- until a first code verifies it. The secret is AES-256-GCM ciphertext (nonce || ciphertext
-- || tag) under the master key whose id is secret_key_id, with the user's id as associated
-- data; never stored in plain text.
CREATE TABLE user_mfa (
    user_id            uuid        PRIMARY KEY REFERENCES users (id),
    secret_key_id      text        NOT NULL,
    secret_ciphertext  bytea       NOT NULL,
    enabled_at         timestamptz,
    -- The newest 30-second time step whose code was accepted: a code of that step or an
    -- earlier one is refused, so no code is accepted twice.
    last_used_step     bigint      NOT NULL DEFAULT -1,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_mfa_secret_key_id_idx ON user_mfa (secret_key_id);

-- Ten single-use codes per enabled factor, each an argon2id hash.
CREATE TABLE mfa_backup_codes (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id),
    code_hash  text        NOT NULL,
    used_at    timestamptz
);
CREATE INDEX mfa_backup_codes_user_idx ON mfa_backup_codes (user_id) WHERE used_at IS NULL;

-- A password login of a user with 2FA on waits here for its code: the mfaToken is random and
-- only its SHA-256 is kept; it is spent by its first success, by expiring, or by too many
-- wrong codes.
CREATE TABLE mfa_challenges (
    token_hash       bytea       PRIMARY KEY,
    user_id          uuid        NOT NULL REFERENCES users (id),
    expires_at       timestamptz NOT NULL,
    failed_attempts  integer     NOT NULL DEFAULT 0,
    used_at          timestamptz
);
CREATE INDEX mfa_challenges_user_idx ON mfa_challenges (user_id);
