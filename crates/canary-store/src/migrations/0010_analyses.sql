-- Analyses, append-only: each rendering stored once by its content id. Several versions of
-- the analysis of one symbol, topic and time exist when it was re-run on newer data.
CREATE TABLE analyses (
    id         TEXT    NOT NULL PRIMARY KEY, -- content hash of the text and its claims
    symbol     TEXT    NOT NULL,
    topic      TEXT    NOT NULL,
    as_of      INTEGER NOT NULL,             -- UTC ms
    version    TEXT    NOT NULL,             -- composer version (`analysis v1`)
    headline   TEXT    NOT NULL,
    label      TEXT,
    tags       TEXT    NOT NULL,             -- space-separated
    markdown   TEXT    NOT NULL,
    json       TEXT    NOT NULL,
    created_at INTEGER NOT NULL              -- write stamp
) WITHOUT ROWID;

CREATE INDEX analyses_subject ON analyses (symbol, topic, as_of, created_at);
