-- Which replica's courier is delivering a message, and until when (unix ms,
-- the database's clock): couriers never deliver one message at once.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;
