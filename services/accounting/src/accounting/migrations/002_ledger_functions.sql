-- Every change of credits happens in one of these functions, each one statement for the
-- service, so the account row is locked for as short a time as possible (a hot account is
-- as fast as its row lock allows). Writers lock the account row before touching its
-- allocations; settling locks the reservation first, then the account. Nothing locks in the
-- other order, so these never deadlock one another.

-- Expire the account's allocations whose time has come. The caller holds the account lock.
CREATE FUNCTION ledger_expire_due(p_account uuid) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    expired bigint := 0;
    r record;
BEGIN
    FOR r IN
        SELECT id, remaining_micro FROM allocations
        WHERE account_id = p_account AND expired_at IS NULL AND expires_at <= now()
    LOOP
        UPDATE allocations SET expired_at = now(), remaining_micro = 0 WHERE id = r.id;
        IF r.remaining_micro > 0 THEN
            INSERT INTO ledger_entries (account_id, kind, available_delta, held_delta, allocation_id)
            VALUES (p_account, 'expiry', -r.remaining_micro, 0, r.id);
            expired := expired + r.remaining_micro;
        END IF;
    END LOOP;
    UPDATE accounts
    SET available_micro = available_micro - expired,
        next_expiry_at = (
            SELECT min(expires_at) FROM allocations
            WHERE account_id = p_account AND expired_at IS NULL AND expires_at IS NOT NULL
        )
    WHERE id = p_account;
    RETURN expired;
END $$;

-- Lock the account and expire what is due; returns the locked row.
CREATE FUNCTION ledger_lock_account(p_account uuid) RETURNS accounts
LANGUAGE plpgsql AS $$
DECLARE
    acct accounts;
BEGIN
    SELECT * INTO acct FROM accounts WHERE id = p_account FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown account %', p_account USING ERRCODE = 'no_data_found';
    END IF;
    IF acct.next_expiry_at IS NOT NULL AND acct.next_expiry_at <= now() THEN
        PERFORM ledger_expire_due(p_account);
        SELECT * INTO acct FROM accounts WHERE id = p_account;
    END IF;
    RETURN acct;
END $$;

-- Take p_amount out of the account's allocations, earliest expiry first (no expiry last).
-- With a reservation, records where each part came from. The caller holds the account lock
-- and has checked that enough is available.
CREATE FUNCTION ledger_take(p_account uuid, p_amount bigint, p_reservation uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    need bigint := p_amount;
    take bigint;
    r record;
BEGIN
    FOR r IN
        SELECT id, remaining_micro FROM allocations
        WHERE account_id = p_account AND expired_at IS NULL AND remaining_micro > 0
        ORDER BY expires_at NULLS LAST, created_at, id
    LOOP
        EXIT WHEN need = 0;
        take := least(need, r.remaining_micro);
        UPDATE allocations SET remaining_micro = remaining_micro - take WHERE id = r.id;
        IF p_reservation IS NOT NULL THEN
            INSERT INTO reservation_draws (reservation_id, allocation_id, amount_micro)
            VALUES (p_reservation, r.id, take);
        END IF;
        need := need - take;
    END LOOP;
    IF need > 0 THEN
        RAISE EXCEPTION 'ledger out of step: account % allocations short by %', p_account, need;
    END IF;
END $$;

CREATE FUNCTION ledger_allocate(
    p_allocation uuid, p_account uuid, p_amount bigint, p_expires_at timestamptz,
    p_notes text, p_created_by text
) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    acct accounts;
BEGIN
    acct := ledger_lock_account(p_account);
    INSERT INTO allocations (id, account_id, amount_micro, remaining_micro, expires_at, notes, created_by)
    VALUES (p_allocation, p_account, p_amount, p_amount, p_expires_at, p_notes, p_created_by);
    INSERT INTO ledger_entries (account_id, kind, available_delta, held_delta, allocation_id)
    VALUES (p_account, 'allocation', p_amount, 0, p_allocation);
    UPDATE accounts
    SET available_micro = available_micro + p_amount,
        next_expiry_at = least(next_expiry_at, p_expires_at),
        low_notified = false
    WHERE id = p_account;
    RETURN acct.available_micro + p_amount;
END $$;

-- Hold p_amount for a reservation, or hold nothing when less is available.
CREATE FUNCTION ledger_reserve(
    p_reservation uuid, p_account uuid, p_user text, p_session text, p_model text,
    p_tokens integer, p_amount bigint, p_expires_at timestamptz
) RETURNS TABLE (ok boolean, available bigint)
LANGUAGE plpgsql AS $$
DECLARE
    acct accounts;
BEGIN
    acct := ledger_lock_account(p_account);
    IF acct.available_micro < p_amount THEN
        RETURN QUERY SELECT false, acct.available_micro;
        RETURN;
    END IF;
    INSERT INTO reservations (id, account_id, user_id, session_id, model_id, estimated_tokens,
                              held_micro, status, expires_at)
    VALUES (p_reservation, p_account, p_user, p_session, p_model, p_tokens,
            p_amount, 'held', p_expires_at);
    PERFORM ledger_take(p_account, p_amount, p_reservation);
    INSERT INTO ledger_entries (account_id, kind, available_delta, held_delta, reservation_id)
    VALUES (p_account, 'hold', -p_amount, p_amount, p_reservation);
    UPDATE accounts
    SET available_micro = available_micro - p_amount, held_micro = held_micro + p_amount
    WHERE id = p_account;
    RETURN QUERY SELECT true, acct.available_micro - p_amount;
END $$;

-- Settle a reservation: charge p_charge (never more than the hold) and give the rest back
-- to the allocations it came from (what belongs to an allocation that expired meanwhile
-- expires). A reservation that is no longer held is left alone: `applied` is false and the
-- first settlement's figures are returned, which makes retries harmless.
CREATE FUNCTION ledger_settle(
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
    SELECT * INTO res FROM reservations r WHERE r.id = p_reservation FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF res.status <> 'held' THEN
        RETURN QUERY SELECT res.status, res.charged_micro, res.held_micro - res.charged_micro, false;
        RETURN;
    END IF;
    PERFORM 1 FROM accounts a WHERE a.id = res.account_id FOR UPDATE;
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
    UPDATE reservations r
    SET status = p_status, charged_micro = charge, input_tokens = p_input_tokens,
        output_tokens = p_output_tokens, settled_at = now()
    WHERE r.id = p_reservation;
    IF p_status <> 'expired' THEN
        INSERT INTO usage_records (account_id, user_id, service, operation, model_id,
                                   input_tokens, output_tokens, credits_micro, reservation_id, event_id)
        VALUES (res.account_id, res.user_id, coalesce(p_service, 'chat'),
                coalesce(p_operation, 'stream'), res.model_id, coalesce(p_input_tokens, 0),
                coalesce(p_output_tokens, 0), charge, p_reservation, p_event);
    END IF;
    RETURN QUERY SELECT p_status, charge, res.held_micro - charge, true;
END $$;

-- A charge with no reservation (usage recorded directly). Charges what is available at most;
-- the rest is recorded as unpaid on the usage record, never as a negative balance.
CREATE FUNCTION ledger_charge(
    p_account uuid, p_amount bigint, p_user text, p_service text, p_operation text,
    p_model text, p_input_tokens integer, p_output_tokens integer, p_event uuid
) RETURNS TABLE (charged bigint, unpaid bigint, available bigint, usage_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    acct accounts;
    take bigint;
    record_id bigint;
BEGIN
    acct := ledger_lock_account(p_account);
    take := least(p_amount, acct.available_micro);
    IF take > 0 THEN
        PERFORM ledger_take(p_account, take, NULL);
        INSERT INTO ledger_entries (account_id, kind, available_delta, held_delta)
        VALUES (p_account, 'charge', -take, 0);
        UPDATE accounts SET available_micro = available_micro - take WHERE id = p_account;
    END IF;
    INSERT INTO usage_records (account_id, user_id, service, operation, model_id, input_tokens,
                               output_tokens, credits_micro, unpaid_micro, event_id)
    VALUES (p_account, p_user, p_service, p_operation, p_model, p_input_tokens, p_output_tokens,
            take, p_amount - take, p_event)
    RETURNING id INTO record_id;
    RETURN QUERY SELECT take, p_amount - take, acct.available_micro - take, record_id;
END $$;

-- Release holds that were never settled, oldest first; safe to run on every replica.
CREATE FUNCTION ledger_expire_holds(p_limit integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer := 0;
    r record;
BEGIN
    FOR r IN
        SELECT id FROM reservations
        WHERE reservations.status = 'held' AND expires_at <= now()
        ORDER BY expires_at
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    LOOP
        PERFORM ledger_settle(r.id, 0, 'expired', NULL, NULL, NULL, NULL, NULL);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;
