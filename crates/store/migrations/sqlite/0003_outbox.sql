-- Messages waiting to be delivered: at least once, in order per incident and
-- channel, each with a stable idempotency key.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    key          TEXT    NOT NULL UNIQUE,   -- idempotency key, sent to the service
    incident_id  INTEGER,                   -- NULL for messages outside an incident
    channel      TEXT    NOT NULL,
    body         TEXT    NOT NULL,          -- the message as JSON
    status       TEXT    NOT NULL DEFAULT 'pending',  -- pending | delivered | failed
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at_ms   INTEGER NOT NULL,
    last_error   TEXT,
    created_ms   INTEGER NOT NULL,
    delivered_ms INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_at_ms);
