-- Per-member API tokens. Only the SHA-256 of a token is kept: tokens carry
-- 256 random bits, so a fast hash is enough and the plain token exists only
-- in the output of `firebreak token create`.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    member       TEXT    NOT NULL,
    label        TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    created_ms   INTEGER NOT NULL,
    revoked_ms   INTEGER,
    last_used_ms INTEGER
);

-- Dashboard sessions (cookie value hashed, like tokens) with their CSRF secret.
-- A session lives only as long as the token it was opened with.
CREATE TABLE sessions (
    hash       TEXT    PRIMARY KEY,
    token_id   INTEGER NOT NULL REFERENCES api_tokens (id),
    member     TEXT    NOT NULL,
    csrf       TEXT    NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);

-- Status-page announcements: draft -> approved -> published.
CREATE TABLE announcements (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id  INTEGER REFERENCES incidents (id),
    status       TEXT    NOT NULL,   -- investigating | identified | monitoring | resolved
    message      TEXT    NOT NULL,
    components   TEXT    NOT NULL,   -- JSON array of component ids
    state        TEXT    NOT NULL,   -- draft | approved | published
    author       TEXT    NOT NULL,
    approved_by  TEXT,
    published_by TEXT,
    created_ms   INTEGER NOT NULL,
    approved_ms  INTEGER,
    published_ms INTEGER
);
CREATE INDEX announcements_published ON announcements (state, published_ms);
