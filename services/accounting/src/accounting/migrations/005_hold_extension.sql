-- A hold lives as long as its answer. While an answer streams, the service that measures it
-- extends the hold and reports what was generated so far (`reported_*`); a hold that still
-- expires (that service died) is charged what was last reported, never nothing, and that
-- charge is recorded as usage like any other.

ALTER TABLE reservations
    ADD COLUMN reported_input_tokens  integer NOT NULL DEFAULT 0,
    ADD COLUMN reported_output_tokens integer NOT NULL DEFAULT 0,
    ADD COLUMN reported_charge_micro  bigint  NOT NULL DEFAULT 0 CHECK (reported_charge_micro >= 0);

-- Push a held reservation's expiry out (never in) and raise its reported progress (never
-- lower it: reports may arrive out of order). Locks only the reservation row, which no writer
-- holds while waiting for the account, so it cannot deadlock with a settlement. Returns the
-- new expiry, or NULL when the reservation is not held any more.
CREATE FUNCTION ledger_extend(
    p_reservation uuid, p_expires_at timestamptz,
    p_input_tokens integer, p_output_tokens integer, p_charge bigint
) RETURNS timestamptz
LANGUAGE sql AS $$
    UPDATE reservations
    SET expires_at = greatest(expires_at, p_expires_at),
        reported_input_tokens = greatest(reported_input_tokens, p_input_tokens),
        reported_output_tokens = greatest(reported_output_tokens, p_output_tokens),
        reported_charge_micro = least(greatest(reported_charge_micro, p_charge), held_micro)
    WHERE id = p_reservation AND status = 'held'
    RETURNING expires_at
$$;

-- As in 003, except that an expiry charges the last reported progress and records it as usage.
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
    -- Account first, then the reservation: the order every writer locks in. A reservation's
    -- account never changes, so reading it before taking the locks is safe.
    SELECT r.account_id INTO res.account_id FROM reservations r WHERE r.id = p_reservation;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM 1 FROM accounts a WHERE a.id = res.account_id FOR UPDATE;
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
    UPDATE reservations r
    SET status = p_status, charged_micro = charge, input_tokens = p_input_tokens,
        output_tokens = p_output_tokens, settled_at = now()
    WHERE r.id = p_reservation;
    IF p_status <> 'expired' OR charge > 0 THEN
        INSERT INTO usage_records (account_id, user_id, service, operation, model_id,
                                   input_tokens, output_tokens, credits_micro, reservation_id, event_id)
        VALUES (res.account_id, res.user_id, coalesce(p_service, 'chat'),
                coalesce(p_operation, 'stream'), res.model_id, coalesce(p_input_tokens, 0),
                coalesce(p_output_tokens, 0), charge, p_reservation, p_event);
    END IF;
    RETURN QUERY SELECT p_status, charge, res.held_micro - charge, true;
END $$;

-- Release holds that were never settled, oldest first, charging what was last reported.
CREATE OR REPLACE FUNCTION ledger_expire_holds(p_limit integer) RETURNS integer
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
    LOOP
        -- ledger_settle locks (account, then reservation), rechecks the status (a hold settled
        -- meanwhile, or expired by another replica, is left alone) and charges the last report.
        IF (SELECT s.applied FROM ledger_settle(r.id, 0, 'expired', NULL, NULL, 'chat', 'stream', NULL) s) THEN
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END $$;
