-- A personal key's tokens per minute (input + output, as charged), enforced by chat per key.
ALTER TABLE api_keys
    ADD COLUMN tokens_per_minute integer
        CHECK (tokens_per_minute BETWEEN 1 AND 100000000);
