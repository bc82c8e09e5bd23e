-- The credit ledger. Amounts are integer micro-credits (1 credit = 1,000,000).
--
-- An account's credits live in its allocations (remaining_micro) until a reservation holds
-- them: a hold moves credits out of allocations (earliest expiry first) into the reservation,
-- and settling it charges part and gives the rest back to the allocations it came from.
-- accounts.available_micro and accounts.held_micro are kept in step with ledger_entries in
-- the same transaction; `make ledger-check` proves they equal the sums of the entries.

CREATE TABLE accounts (
    id               uuid        PRIMARY KEY,
    owner_type       text        NOT NULL CHECK (owner_type IN ('user', 'team')),
    owner_id         text        NOT NULL,
    username         text,
    available_micro  bigint      NOT NULL DEFAULT 0 CHECK (available_micro >= 0),
    held_micro       bigint      NOT NULL DEFAULT 0 CHECK (held_micro >= 0),
    -- Earliest expiry among allocations that still hold credits; lets hot paths skip the
    -- expiry sweep with one comparison.
    next_expiry_at   timestamptz,
    low_notified     boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (owner_type, owner_id),
    -- Keeps every amount within 15 significant digits (exact as a JSON number).
    CONSTRAINT accounts_balance_cap CHECK (available_micro + held_micro < 1000000000000000)
);
CREATE UNIQUE INDEX accounts_username_key ON accounts (lower(username)) WHERE username IS NOT NULL;

CREATE TABLE allocations (
    id               uuid        PRIMARY KEY,
    account_id       uuid        NOT NULL REFERENCES accounts (id),
    amount_micro     bigint      NOT NULL CHECK (amount_micro > 0),
    remaining_micro  bigint      NOT NULL CHECK (remaining_micro >= 0),
    expires_at       timestamptz,
    expired_at       timestamptz,
    notes            text,
    created_by       text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX allocations_spend_order ON allocations (account_id, expires_at NULLS LAST, created_at)
    WHERE expired_at IS NULL;

CREATE TABLE reservations (
    id                uuid        PRIMARY KEY,
    account_id        uuid        NOT NULL REFERENCES accounts (id),
    user_id           text        NOT NULL,
    session_id        text        NOT NULL,
    model_id          text        NOT NULL,
    estimated_tokens  integer     NOT NULL,
    held_micro        bigint      NOT NULL CHECK (held_micro > 0),
    status            text        NOT NULL CHECK (status IN ('held', 'settled', 'aborted', 'expired')),
    charged_micro     bigint      CHECK (charged_micro >= 0 AND charged_micro <= held_micro),
    input_tokens      integer,
    output_tokens     integer,
    expires_at        timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    settled_at        timestamptz
);
CREATE INDEX reservations_open_by_expiry ON reservations (expires_at) WHERE status = 'held';
CREATE INDEX reservations_open_by_account ON reservations (account_id) WHERE status = 'held';
CREATE INDEX reservations_by_session ON reservations (session_id, created_at DESC);

-- Where a reservation's held credits came from, so what is not charged goes back there.
CREATE TABLE reservation_draws (
    reservation_id  uuid   NOT NULL REFERENCES reservations (id),
    allocation_id   uuid   NOT NULL REFERENCES allocations (id),
    amount_micro    bigint NOT NULL CHECK (amount_micro > 0),
    PRIMARY KEY (reservation_id, allocation_id)
);

CREATE TABLE ledger_entries (
    id               bigserial   PRIMARY KEY,
    account_id       uuid        NOT NULL REFERENCES accounts (id),
    kind             text        NOT NULL CHECK (kind IN (
                         'allocation', 'hold', 'settlement', 'release', 'expiry',
                         'hold_expiry', 'charge', 'adjustment')),
    available_delta  bigint      NOT NULL,
    held_delta       bigint      NOT NULL,
    allocation_id    uuid,
    reservation_id   uuid,
    idempotency_key  text        UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_by_account ON ledger_entries (account_id, id);

CREATE FUNCTION ledger_entries_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are immutable';
END $$;
CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_are_immutable();

CREATE TABLE usage_records (
    id                 bigserial   PRIMARY KEY,
    account_id         uuid        NOT NULL REFERENCES accounts (id),
    user_id            text        NOT NULL,
    service            text        NOT NULL,
    operation          text        NOT NULL,
    model_id           text,
    input_tokens       integer     NOT NULL DEFAULT 0,
    output_tokens      integer     NOT NULL DEFAULT 0,
    credits_micro      bigint      NOT NULL CHECK (credits_micro >= 0),
    -- What could not be charged because the account ran dry (direct charges only).
    unpaid_micro       bigint      NOT NULL DEFAULT 0,
    reservation_id     uuid        UNIQUE,
    event_id           uuid        UNIQUE,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_records_by_user ON usage_records (user_id, created_at);
CREATE INDEX usage_records_by_time ON usage_records (created_at);
