-- A usage.recorded event that names a reservation, applied in one statement (one round trip
-- instead of a read, then BEGIN, the claim, a second read, the settlement and COMMIT), with the
-- same outcomes as before:
--   'unknown'          the reservation does not exist or is another user's (nothing claimed:
--                      the consumer dead-letters the event);
--   'already_settled'  it is no longer held (nothing claimed, nothing to apply: a
--                      redelivery finds the same);
--   'duplicate'        this consumer already claimed the event;
--   'applied'          claimed and settled in this statement's transaction, so the claim
--                      commits exactly when the settlement does (the figures are
--                      ledger_settle's: applied false when another settlement got there
--                      between the read and the locks).
-- The claim is event_bus's inbox (processed_events, as claim_event writes it). The charge is
-- the reservation's: p_charge at the model's price, p_charge_byok at the BYOK fee, chosen by
-- the reservation's own mark, as a settlement over HTTP does.
CREATE FUNCTION ledger_settle_usage(
    p_event uuid, p_consumer text, p_reservation uuid, p_user text,
    p_charge bigint, p_charge_byok bigint,
    p_input_tokens integer, p_output_tokens integer, p_service text, p_operation text
) RETURNS TABLE (outcome text, status text, charged bigint, refunded bigint, applied boolean)
LANGUAGE plpgsql AS $$
DECLARE
    res reservations;
    s record;
BEGIN
    SELECT * INTO res FROM reservations r WHERE r.id = p_reservation;
    IF NOT FOUND OR res.user_id <> p_user THEN
        RETURN QUERY SELECT 'unknown'::text, NULL::text, NULL::bigint, NULL::bigint, false;
        RETURN;
    END IF;
    IF res.status <> 'held' THEN
        RETURN QUERY SELECT 'already_settled'::text, res.status, NULL::bigint, NULL::bigint, false;
        RETURN;
    END IF;
    INSERT INTO processed_events (consumer, event_id) VALUES (p_consumer, p_event)
        ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'duplicate'::text, NULL::text, NULL::bigint, NULL::bigint, false;
        RETURN;
    END IF;
    SELECT * INTO s FROM ledger_settle(
        p_reservation, CASE WHEN res.byok THEN p_charge_byok ELSE p_charge END, 'settled',
        p_input_tokens, p_output_tokens, p_service, p_operation, p_event);
    RETURN QUERY SELECT 'applied'::text, s.status, s.charged, s.refunded, s.applied;
END $$;
