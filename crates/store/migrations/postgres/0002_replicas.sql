-- Each daemon's latest heartbeat: readiness and, per chain, head and processed block.
CREATE TABLE replicas (
    replica TEXT   PRIMARY KEY,
    beat_ms BIGINT NOT NULL,
    body    TEXT   NOT NULL    -- the beat as JSON
);
