-- Incidents: alerts of one protocol, playbook and chain within a time window.
CREATE TABLE incidents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    status        TEXT    NOT NULL,
    severity      TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    protocol      TEXT    NOT NULL,
    playbook      TEXT    NOT NULL,
    chain_id      INTEGER NOT NULL,
    plan_hash     TEXT    NOT NULL,
    drill         INTEGER NOT NULL DEFAULT 0,
    alert_count   INTEGER NOT NULL DEFAULT 0,
    opened_ms     INTEGER NOT NULL,      -- unix milliseconds
    last_alert_ms INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
);
CREATE INDEX incidents_open ON incidents (protocol, playbook, chain_id, status);

-- Which alerts belong to which incident (an alert belongs to one incident).
CREATE TABLE incident_alerts (
    dedup_key   TEXT    PRIMARY KEY REFERENCES alerts (dedup_key),
    incident_id INTEGER NOT NULL REFERENCES incidents (id)
);
CREATE INDEX incident_alerts_by_incident ON incident_alerts (incident_id);

-- Append-only, hash-chained record of everything that happened to an incident.
-- hash = SHA-256 of the canonical JSON of (incident, seq, at, actor, kind, body, prev).
CREATE TABLE timeline (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    seq         INTEGER NOT NULL,
    at          TEXT    NOT NULL,   -- RFC 3339, as hashed
    actor       TEXT    NOT NULL,   -- system | member:NAME | external:NAME
    kind        TEXT    NOT NULL,
    body        TEXT    NOT NULL,   -- canonical JSON, as hashed
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    PRIMARY KEY (incident_id, seq)
);

-- Playbook step state per incident.
CREATE TABLE steps (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    step_id     TEXT    NOT NULL,
    idx         INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    detail      TEXT,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (incident_id, step_id)
);

-- On-chain actions: one row per transaction the executor means to land.
-- attempts holds every signed transaction (hash, raw bytes, fees) as JSON,
-- written before it is broadcast.
CREATE TABLE actions (
    key          TEXT    PRIMARY KEY,   -- incident/step/target/path: at most one per target and path
    incident_id  INTEGER NOT NULL REFERENCES incidents (id),
    step_id      TEXT    NOT NULL,
    chain_id     INTEGER NOT NULL,
    kind         TEXT    NOT NULL,      -- guardian | safe
    sender       TEXT    NOT NULL,
    target       TEXT    NOT NULL,
    calldata     TEXT    NOT NULL,
    nonce        INTEGER,
    status       TEXT    NOT NULL,
    attempts     TEXT    NOT NULL DEFAULT '[]',
    receipt      TEXT,
    safe_tx      TEXT,                  -- the SafeTx JSON for Safe actions
    safe_tx_hash TEXT,
    error        TEXT,
    created_ms   INTEGER NOT NULL,
    updated_ms   INTEGER NOT NULL
);
CREATE INDEX actions_by_incident ON actions (incident_id);
CREATE INDEX actions_by_safe_tx ON actions (safe_tx_hash);

-- Member approvals of gated steps; one per member and step.
CREATE TABLE approvals (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    step_id     TEXT    NOT NULL,
    member      TEXT    NOT NULL,
    approve     INTEGER NOT NULL,
    at_ms       INTEGER NOT NULL,
    PRIMARY KEY (incident_id, step_id, member)
);

-- Owner signatures over SafeTx hashes, from hot signers, humans or pre-signing.
CREATE TABLE safe_signatures (
    safe_tx_hash TEXT    NOT NULL,
    signer       TEXT    NOT NULL,
    signature    TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    at_ms        INTEGER NOT NULL,
    PRIMARY KEY (safe_tx_hash, signer)
);

-- Pause batches signed in advance for a Safe at a given nonce.
CREATE TABLE presigned (
    chain_id     INTEGER NOT NULL,
    safe         TEXT    NOT NULL,
    nonce        INTEGER NOT NULL,
    safe_tx_hash TEXT    NOT NULL,
    safe_tx      TEXT    NOT NULL,
    contracts    TEXT    NOT NULL,   -- JSON list of plan contract keys the batch pauses
    created_ms   INTEGER NOT NULL,
    PRIMARY KEY (chain_id, safe, nonce, safe_tx_hash)
);
