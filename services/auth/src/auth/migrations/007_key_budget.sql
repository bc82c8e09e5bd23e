-- A personal key's budget, in integer micro-credits (1 credit = 1,000,000): the most its
-- answers may spend in all. Enforced by accounting, which reads it from the key's tokens
-- (claim `keyBudgetMicro`, signed here). Below 10^15 like every amount in accounting.
ALTER TABLE api_keys
    ADD COLUMN max_budget_micro bigint
        CHECK (max_budget_micro > 0 AND max_budget_micro < 1000000000000000),
    ADD CONSTRAINT api_keys_budget_is_personal CHECK (max_budget_micro IS NULL OR user_id IS NOT NULL);
