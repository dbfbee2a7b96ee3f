-- Per chain: the last block whose alerts are all stored. Never ahead of its alerts.
CREATE TABLE checkpoints (
    chain_id   BIGINT      PRIMARY KEY,
    number     BIGINT      NOT NULL,
    hash       TEXT        NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every alert ever reported, once per dedup key (monitor, block hash, tx, log index).
CREATE TABLE alerts (
    id           BIGSERIAL   UNIQUE,            -- insertion order
    dedup_key    TEXT        PRIMARY KEY,
    monitor      TEXT        NOT NULL,
    severity     TEXT        NOT NULL,
    chain_id     BIGINT      NOT NULL,
    block_number BIGINT      NOT NULL,
    block_hash   TEXT        NOT NULL,
    body         TEXT        NOT NULL,          -- the alert as JSON
    retracted    BOOLEAN     NOT NULL DEFAULT false,  -- its block was orphaned by a reorg
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX alerts_by_block ON alerts (chain_id, block_number);
