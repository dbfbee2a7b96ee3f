-- Which transactions firebreak sent: a block's transaction from a watched
-- key is looked up by (chain, sender, nonce) (rules `tx from … where !tx.firebreak`).
CREATE INDEX actions_by_sender ON actions (chain_id, sender, nonce);

-- SafeTx hashes the team approved outside an incident (routine operations),
-- each with who and why: a Safe owner approving (`ApproveHash`) or the Safe
-- executing a hash that is neither here nor one of firebreak's own
-- (actions, pre-signed batches) is what `!safe_tx.approved` rules catch.
CREATE TABLE safe_tx_allow (
    chain_id     INTEGER NOT NULL,
    safe         TEXT    NOT NULL,
    safe_tx_hash TEXT    NOT NULL,
    member       TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    at_ms        INTEGER NOT NULL,
    PRIMARY KEY (chain_id, safe_tx_hash)
);

-- ETH an action's transaction carries (a sweep of a hot wallet), as 0x hex.
ALTER TABLE actions ADD COLUMN value TEXT NOT NULL DEFAULT '0x0';
