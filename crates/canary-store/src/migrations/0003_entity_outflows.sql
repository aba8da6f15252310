-- Outflows of labelled entities, one row per (entity, transaction, destination kind).
-- A transaction is known from its block time; re-fetching adds nothing.
CREATE TABLE entity_outflows (
    entity       TEXT    NOT NULL,
    txid         TEXT    NOT NULL,
    destination  TEXT    NOT NULL, -- exchange, otc, custodian, miner, unlabelled
    btc          REAL    NOT NULL,
    time         INTEGER NOT NULL, -- block time, UTC ms
    source       TEXT    NOT NULL,
    available_at INTEGER NOT NULL,
    ingested_at  INTEGER NOT NULL,
    PRIMARY KEY (entity, txid, destination)
) WITHOUT ROWID;

CREATE INDEX entity_outflows_time ON entity_outflows (entity, time);
