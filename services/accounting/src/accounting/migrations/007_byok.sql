-- Bring your own key: an answer chat got from the provider with the caller's own credential
-- (BYOK) is charged BYOK_FEE_PER_1K_TOKENS instead of the model's price. The reservation says
-- so when it is made; its usage record copies it, and a direct charge's record is marked by
-- the charge itself. Nothing else of the ledger changes.
ALTER TABLE reservations ADD COLUMN byok boolean NOT NULL DEFAULT false;
ALTER TABLE usage_records ADD COLUMN byok boolean NOT NULL DEFAULT false;

-- The ledger functions insert usage records without knowing of BYOK: a settlement's record is
-- BYOK exactly when its reservation is.
CREATE FUNCTION usage_record_byok_of_reservation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.reservation_id IS NOT NULL THEN
        NEW.byok := coalesce(
            (SELECT r.byok FROM reservations r WHERE r.id = NEW.reservation_id), NEW.byok);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER usage_records_byok BEFORE INSERT ON usage_records
    FOR EACH ROW EXECUTE FUNCTION usage_record_byok_of_reservation();
