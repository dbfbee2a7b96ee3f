-- Per chain: the last block whose alerts are all stored. Never ahead of its alerts.
CREATE TABLE checkpoints (
    chain_id   INTEGER PRIMARY KEY,
    number     INTEGER NOT NULL,
    hash       TEXT    NOT NULL,
    updated_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Every alert ever reported, once per dedup key (monitor, block hash, tx, log index).
CREATE TABLE alerts (
    dedup_key    TEXT    PRIMARY KEY,
    monitor      TEXT    NOT NULL,
    severity     TEXT    NOT NULL,
    chain_id     INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    block_hash   TEXT    NOT NULL,
    body         TEXT    NOT NULL,            -- the alert as JSON
    retracted    INTEGER NOT NULL DEFAULT 0,  -- 1 when its block was orphaned by a reorg
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX alerts_by_block ON alerts (chain_id, block_number);
