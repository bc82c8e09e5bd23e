-- What each API key has spent and holds, so a key's budget is never overspent.
--
-- A request made with an API key carries the key in its token (`keyId`, and for a personal
-- key with a budget `keyBudgetMicro`), signed by auth: the service takes both from the
-- verified token, never from a body. A key spends from one account only (its owner's, or its
-- team's). key_spend.held_micro is what the key's open reservations hold and spent_micro what
-- its ended reservations (and direct charges) charged; both change in the same statement as
-- the account's, and `ledger-check` proves they equal the sums of those rows.
--
-- Lock order, for every writer: the account row, then the key row, then the reservation
-- row. A key's row is only ever locked by a transaction that already holds its account's
-- lock, so it adds no new wait to the account-first order of 003 and cannot deadlock.

CREATE TABLE key_spend (
    key_id        uuid        PRIMARY KEY,
    account_id    uuid        NOT NULL REFERENCES accounts (id),
    -- The budget the key's latest token carried; NULL: no limit but the account's balance.
    budget_micro  bigint      CHECK (budget_micro > 0),
    spent_micro   bigint      NOT NULL DEFAULT 0 CHECK (spent_micro >= 0),
    held_micro    bigint      NOT NULL DEFAULT 0 CHECK (held_micro >= 0),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX key_spend_by_account ON key_spend (account_id);

ALTER TABLE reservations ADD COLUMN key_id uuid REFERENCES key_spend (key_id);
CREATE INDEX reservations_by_key ON reservations (key_id) WHERE key_id IS NOT NULL;
ALTER TABLE usage_records ADD COLUMN key_id uuid REFERENCES key_spend (key_id);
CREATE INDEX usage_records_by_key ON usage_records (key_id, created_at) WHERE key_id IS NOT NULL;

-- The key's row, created on its first use and locked. The caller holds p_account's lock.
-- The budget is the token's (auth signs it; a key's budget never changes).
CREATE FUNCTION ledger_lock_key(p_key uuid, p_account uuid, p_budget bigint) RETURNS key_spend
LANGUAGE plpgsql AS $$
DECLARE
    spend key_spend;
BEGIN
    INSERT INTO key_spend (key_id, account_id, budget_micro) VALUES (p_key, p_account, p_budget)
    ON CONFLICT (key_id) DO NOTHING;
    SELECT * INTO spend FROM key_spend k WHERE k.key_id = p_key FOR UPDATE;
    IF spend.account_id <> p_account THEN
        RAISE EXCEPTION 'key % spends from account %, not %', p_key, spend.account_id, p_account;
    END IF;
    IF spend.budget_micro IS DISTINCT FROM p_budget THEN
        UPDATE key_spend k SET budget_micro = p_budget WHERE k.key_id = p_key;
        spend.budget_micro := p_budget;
    END IF;
    RETURN spend;
END $$;

-- Hold p_amount for a reservation made with key p_key (or none), or hold nothing: when the
-- key's spend, its holds and this hold would pass its budget (`refusal` key_budget_exceeded,
-- checked first: more credits would not help), or when the account has less available
-- (`refusal` insufficient_credits). `key_spent`/`key_held` are the key's before this hold.
CREATE FUNCTION ledger_reserve_for_key(
    p_reservation uuid, p_account uuid, p_key uuid, p_budget bigint, p_user text,
    p_session text, p_model text, p_tokens integer, p_amount bigint, p_expires_at timestamptz
) RETURNS TABLE (ok boolean, available bigint, refusal text, key_spent bigint, key_held bigint)
LANGUAGE plpgsql AS $$
DECLARE
    acct accounts;
    spend key_spend;
BEGIN
    acct := ledger_lock_account(p_account);
    IF p_key IS NOT NULL THEN
        spend := ledger_lock_key(p_key, p_account, p_budget);
        IF spend.budget_micro IS NOT NULL
           AND spend.spent_micro + spend.held_micro + p_amount > spend.budget_micro THEN
            RETURN QUERY SELECT false, acct.available_micro, 'key_budget_exceeded'::text,
                                spend.spent_micro, spend.held_micro;
            RETURN;
        END IF;
    END IF;
    IF acct.available_micro < p_amount THEN
        RETURN QUERY SELECT false, acct.available_micro, 'insufficient_credits'::text,
                            spend.spent_micro, spend.held_micro;
        RETURN;
    END IF;
    INSERT INTO reservations (id, account_id, user_id, session_id, model_id, estimated_tokens,
                              held_micro, status, expires_at, key_id)
    VALUES (p_reservation, p_account, p_user, p_session, p_model, p_tokens,
            p_amount, 'held', p_expires_at, p_key);
    PERFORM ledger_take(p_account, p_amount, p_reservation);
    INSERT INTO ledger_entries (account_id, kind, available_delta, held_delta, reservation_id)
    VALUES (p_account, 'hold', -p_amount, p_amount, p_reservation);
    UPDATE accounts
    SET available_micro = available_micro - p_amount, held_micro = held_micro + p_amount
    WHERE id = p_account;
    IF p_key IS NOT NULL THEN
        UPDATE key_spend k SET held_micro = k.held_micro + p_amount WHERE k.key_id = p_key;
    END IF;
    RETURN QUERY SELECT true, acct.available_micro - p_amount, NULL::text,
                        spend.spent_micro, spend.held_micro;
END $$;

-- The reservation without a key, as before (kept for callers of the old signature).
CREATE OR REPLACE FUNCTION ledger_reserve(
    p_reservation uuid, p_account uuid, p_user text, p_session text, p_model text,
    p_tokens integer, p_amount bigint, p_expires_at timestamptz
) RETURNS TABLE (ok boolean, available bigint)
LANGUAGE sql AS $$
    SELECT r.ok, r.available
    FROM ledger_reserve_for_key(p_reservation, p_account, NULL, NULL, p_user, p_session,
                                p_model, p_tokens, p_amount, p_expires_at) r
$$;

-- As in 005, and what the reservation's key held moves to its spend exactly as the
-- account's does: the charge is spent, the hold is no longer held. Locks the account, then
-- the key, then the reservation.
CREATE OR REPLACE FUNCTION ledger_settle(
    p_reservation uuid, p_charge bigint, p_status text,
    p_input_tokens integer, p_output_tokens integer,
    p_service text, p_operation text, p_event uuid
) RETURNS TABLE (status text, charged bigint, refunded bigint, applied boolean)
LANGUAGE plpgsql AS $$
DECLARE
    res reservations;
    charge bigint;
    to_charge bigint;
    part bigint;
    back bigint;
    back_live bigint := 0;
    back_expired bigint := 0;
    d record;
BEGIN
    -- A reservation's account and key never change, so reading them before the locks is safe.
    SELECT r.account_id, r.key_id INTO res.account_id, res.key_id
    FROM reservations r WHERE r.id = p_reservation;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM 1 FROM accounts a WHERE a.id = res.account_id FOR UPDATE;
    IF res.key_id IS NOT NULL THEN
        PERFORM 1 FROM key_spend k WHERE k.key_id = res.key_id FOR UPDATE;
    END IF;
    SELECT * INTO res FROM reservations r WHERE r.id = p_reservation FOR UPDATE;
    IF res.status <> 'held' THEN
        RETURN QUERY SELECT res.status, res.charged_micro, res.held_micro - res.charged_micro, false;
        RETURN;
    END IF;
    IF p_status = 'expired' THEN
        -- What the measuring service last reported: read under the lock, so a report that
        -- raced the sweep is not lost.
        p_charge := res.reported_charge_micro;
        p_input_tokens := res.reported_input_tokens;
        p_output_tokens := res.reported_output_tokens;
    END IF;
    charge := least(greatest(p_charge, 0), res.held_micro);
    to_charge := charge;
    FOR d IN
        SELECT rd.allocation_id, rd.amount_micro, al.expired_at
        FROM reservation_draws rd JOIN allocations al ON al.id = rd.allocation_id
        WHERE rd.reservation_id = p_reservation
        ORDER BY al.expires_at NULLS LAST, al.created_at, al.id
    LOOP
        part := least(to_charge, d.amount_micro);
        to_charge := to_charge - part;
        back := d.amount_micro - part;
        CONTINUE WHEN back = 0;
        IF d.expired_at IS NULL THEN
            UPDATE allocations SET remaining_micro = remaining_micro + back WHERE id = d.allocation_id;
            back_live := back_live + back;
        ELSE
            back_expired := back_expired + back;
        END IF;
    END LOOP;
    IF charge > 0 THEN
        INSERT INTO ledger_entries (account_id, kind, available_delta, held_delta, reservation_id)
        VALUES (res.account_id, 'settlement', 0, -charge, p_reservation);
    END IF;
    IF back_live > 0 THEN
        INSERT INTO ledger_entries (account_id, kind, available_delta, held_delta, reservation_id)
        VALUES (res.account_id, CASE WHEN p_status = 'expired' THEN 'hold_expiry' ELSE 'release' END,
                back_live, -back_live, p_reservation);
    END IF;
    IF back_expired > 0 THEN
        INSERT INTO ledger_entries (account_id, kind, available_delta, held_delta, reservation_id)
        VALUES (res.account_id, 'expiry', 0, -back_expired, p_reservation);
    END IF;
    UPDATE accounts a
    SET available_micro = a.available_micro + back_live, held_micro = a.held_micro - res.held_micro
    WHERE a.id = res.account_id;
    IF res.key_id IS NOT NULL THEN
        UPDATE key_spend k
        SET held_micro = k.held_micro - res.held_micro, spent_micro = k.spent_micro + charge
        WHERE k.key_id = res.key_id;
    END IF;
    UPDATE reservations r
    SET status = p_status, charged_micro = charge, input_tokens = p_input_tokens,
        output_tokens = p_output_tokens, settled_at = now()
    WHERE r.id = p_reservation;
    IF p_status <> 'expired' OR charge > 0 THEN
        INSERT INTO usage_records (account_id, user_id, service, operation, model_id,
                                   input_tokens, output_tokens, credits_micro, reservation_id,
                                   event_id, key_id)
        VALUES (res.account_id, res.user_id, coalesce(p_service, 'chat'),
                coalesce(p_operation, 'stream'), res.model_id, coalesce(p_input_tokens, 0),
                coalesce(p_output_tokens, 0), charge, p_reservation, p_event, res.key_id);
    END IF;
    RETURN QUERY SELECT p_status, charge, res.held_micro - charge, true;
END $$;

-- A charge with no reservation, as in 002, made with key p_key (or none): what is available
-- at most, and for a key with a budget at most what is left of it; the rest is recorded as
-- unpaid on the usage record, never as a negative balance or an overspent key.
CREATE FUNCTION ledger_charge_for_key(
    p_account uuid, p_key uuid, p_budget bigint, p_amount bigint, p_user text,
    p_service text, p_operation text, p_model text, p_input_tokens integer,
    p_output_tokens integer, p_event uuid
) RETURNS TABLE (charged bigint, unpaid bigint, available bigint, usage_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    acct accounts;
    spend key_spend;
    take bigint;
    record_id bigint;
BEGIN
    acct := ledger_lock_account(p_account);
    take := least(p_amount, acct.available_micro);
    IF p_key IS NOT NULL THEN
        spend := ledger_lock_key(p_key, p_account, p_budget);
        IF spend.budget_micro IS NOT NULL THEN
            take := least(take, greatest(
                spend.budget_micro - spend.spent_micro - spend.held_micro, 0));
        END IF;
    END IF;
    IF take > 0 THEN
        PERFORM ledger_take(p_account, take, NULL);
        INSERT INTO ledger_entries (account_id, kind, available_delta, held_delta)
        VALUES (p_account, 'charge', -take, 0);
        UPDATE accounts SET available_micro = available_micro - take WHERE id = p_account;
    END IF;
    IF p_key IS NOT NULL THEN
        UPDATE key_spend k SET spent_micro = k.spent_micro + take WHERE k.key_id = p_key;
    END IF;
    INSERT INTO usage_records (account_id, user_id, service, operation, model_id, input_tokens,
                               output_tokens, credits_micro, unpaid_micro, event_id, key_id)
    VALUES (p_account, p_user, p_service, p_operation, p_model, p_input_tokens, p_output_tokens,
            take, p_amount - take, p_event, p_key)
    RETURNING id INTO record_id;
    RETURN QUERY SELECT take, p_amount - take, acct.available_micro - take, record_id;
END $$;

-- The direct charge without a key, as before (kept for callers of the old signature).
CREATE OR REPLACE FUNCTION ledger_charge(
    p_account uuid, p_amount bigint, p_user text, p_service text, p_operation text,
    p_model text, p_input_tokens integer, p_output_tokens integer, p_event uuid
) RETURNS TABLE (charged bigint, unpaid bigint, available bigint, usage_id bigint)
LANGUAGE sql AS $$
    SELECT c.charged, c.unpaid, c.available, c.usage_id
    FROM ledger_charge_for_key(p_account, NULL, NULL, p_amount, p_user, p_service, p_operation,
                               p_model, p_input_tokens, p_output_tokens, p_event) c
$$;
