-- Transfers: credits moved from one account's available balance to another account, in one
-- transaction and one statement (ledger_transfer). Nothing is created: the source's
-- allocations give up exactly what the target's new allocations receive, so funding a team
-- out of its owner's balance cannot mint credits. Only allocations (admins, plans) add any.

CREATE TABLE transfers (
    id               uuid        PRIMARY KEY,
    -- The same key transfers once, however often it is sent.
    idempotency_key  text        NOT NULL UNIQUE,
    from_account_id  uuid        NOT NULL REFERENCES accounts (id),
    to_account_id    uuid        NOT NULL REFERENCES accounts (id),
    amount_micro     bigint      NOT NULL CHECK (amount_micro > 0),
    notes            text,
    created_by       text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (from_account_id <> to_account_id)
);

-- Each side of a transfer is a ledger entry naming it (and the allocation it changed).
ALTER TABLE ledger_entries ADD COLUMN transfer_id uuid REFERENCES transfers (id);
CREATE INDEX ledger_entries_by_transfer ON ledger_entries (transfer_id)
    WHERE transfer_id IS NOT NULL;

-- Every existing row satisfies the narrower list it replaces, so the new check need not scan
-- the ledger (NOT VALID still applies to every row written from now on).
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_kind_check CHECK (kind IN (
    'allocation', 'hold', 'settlement', 'release', 'expiry',
    'hold_expiry', 'charge', 'adjustment', 'transfer_out', 'transfer_in')) NOT VALID;

-- Move p_amount from p_from's available credits to p_to, once per p_key.
--
-- Locks both account rows, the lower id first: every transfer locks in that order, so two
-- transfers between the same accounts in opposite directions cannot deadlock. (The service
-- never batches a transfer with other operations: a batch holds its account's lock across
-- operations, and a second account locked inside it could close a cycle.)
--
-- The credits are drawn from the source's allocations soonest-expiring first (no expiry
-- last), exactly as a reservation draws. Each part becomes a new allocation on the target
-- that KEEPS THE EXPIRY of the allocation it came from (none stays none): moving credits
-- never extends their life, so a transfer cannot turn credits that were about to expire
-- into credits that never do. Each part is a pair of immutable entries, 'transfer_out' on
-- the source allocation and 'transfer_in' on the new one, both naming the transfer.
--
-- Outcomes: applied (moved now); not applied with the first transfer's figures (this key
-- was used before: the caller compares accounts and amount); not sufficient (nothing
-- written, `available` is what the source has). Balances are the accounts' after the call.
CREATE FUNCTION ledger_transfer(
    p_transfer uuid, p_key text, p_from uuid, p_to uuid, p_amount bigint,
    p_notes text, p_created_by text
) RETURNS TABLE (
    transfer uuid, applied boolean, sufficient boolean, source uuid, target uuid,
    moved bigint, available bigint, target_available bigint
)
LANGUAGE plpgsql AS $$
DECLARE
    prior transfers;
    src accounts;
    dst accounts;
    need bigint := p_amount;
    take bigint;
    part uuid;
    soonest timestamptz;
    r record;
BEGIN
    IF p_from = p_to THEN
        RAISE EXCEPTION 'a transfer needs two accounts' USING ERRCODE = 'check_violation';
    END IF;
    PERFORM ledger_lock_account(least(p_from, p_to));
    PERFORM ledger_lock_account(greatest(p_from, p_to));
    -- Checked under the locks: a concurrent transfer with this key has committed by now.
    SELECT * INTO prior FROM transfers t WHERE t.idempotency_key = p_key;
    IF FOUND THEN
        RETURN QUERY
        SELECT prior.id, false, true, prior.from_account_id, prior.to_account_id,
               prior.amount_micro,
               (SELECT a.available_micro FROM accounts a WHERE a.id = prior.from_account_id),
               (SELECT a.available_micro FROM accounts a WHERE a.id = prior.to_account_id);
        RETURN;
    END IF;
    SELECT * INTO src FROM accounts a WHERE a.id = p_from;
    SELECT * INTO dst FROM accounts a WHERE a.id = p_to;
    IF src.available_micro < p_amount THEN
        RETURN QUERY SELECT NULL::uuid, false, false, p_from, p_to, p_amount,
                            src.available_micro, dst.available_micro;
        RETURN;
    END IF;
    INSERT INTO transfers (id, idempotency_key, from_account_id, to_account_id, amount_micro,
                           notes, created_by)
    VALUES (p_transfer, p_key, p_from, p_to, p_amount, p_notes, p_created_by);
    FOR r IN
        SELECT al.id, al.remaining_micro, al.expires_at FROM allocations al
        WHERE al.account_id = p_from AND al.expired_at IS NULL AND al.remaining_micro > 0
        ORDER BY al.expires_at NULLS LAST, al.created_at, al.id
    LOOP
        EXIT WHEN need = 0;
        take := least(need, r.remaining_micro);
        UPDATE allocations SET remaining_micro = remaining_micro - take WHERE id = r.id;
        INSERT INTO ledger_entries (account_id, kind, available_delta, held_delta,
                                    allocation_id, transfer_id)
        VALUES (p_from, 'transfer_out', -take, 0, r.id, p_transfer);
        part := gen_random_uuid();
        INSERT INTO allocations (id, account_id, amount_micro, remaining_micro, expires_at,
                                 notes, created_by)
        VALUES (part, p_to, take, take, r.expires_at, p_notes, p_created_by);
        INSERT INTO ledger_entries (account_id, kind, available_delta, held_delta,
                                    allocation_id, transfer_id)
        VALUES (p_to, 'transfer_in', take, 0, part, p_transfer);
        soonest := least(soonest, r.expires_at);
        need := need - take;
    END LOOP;
    IF need > 0 THEN
        RAISE EXCEPTION 'ledger out of step: account % allocations short by %', p_from, need;
    END IF;
    UPDATE accounts SET available_micro = available_micro - p_amount WHERE id = p_from;
    UPDATE accounts
    SET available_micro = available_micro + p_amount,
        next_expiry_at = least(next_expiry_at, soonest),
        low_notified = false
    WHERE id = p_to;
    RETURN QUERY SELECT p_transfer, true, true, p_from, p_to, p_amount,
                        src.available_micro - p_amount, dst.available_micro + p_amount;
END $$;
