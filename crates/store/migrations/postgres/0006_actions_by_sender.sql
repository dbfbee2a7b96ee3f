-- Which transactions firebreak sent: a block's transaction from a watched
-- key is looked up by (chain, sender, nonce) (rules `tx from … where !tx.firebreak`).
CREATE INDEX actions_by_sender ON actions (chain_id, sender, nonce);
