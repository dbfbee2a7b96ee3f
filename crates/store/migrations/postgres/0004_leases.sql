-- Which replica may act for a signer: holder, fencing epoch, and when the
-- lease runs out (unix ms, the database's clock).
CREATE TABLE leases (
    name       TEXT   PRIMARY KEY,
    holder     TEXT   NOT NULL,
    epoch      BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
