-- Revisions: a value re-imported with other values for the same key is a new version,
-- available from the time it was ingested; a read as of T sees, for each key, the latest
-- version available at T. The key gains `available_at`.
CREATE TABLE candles_v (
    symbol       TEXT    NOT NULL,
    timeframe    TEXT    NOT NULL,
    open_time    INTEGER NOT NULL,
    open         REAL    NOT NULL,
    high         REAL    NOT NULL,
    low          REAL    NOT NULL,
    close        REAL    NOT NULL,
    volume       REAL    NOT NULL,
    quote_volume REAL,
    trades       INTEGER,
    source       TEXT    NOT NULL,
    available_at INTEGER NOT NULL,
    ingested_at  INTEGER NOT NULL,
    source_bars  INTEGER,
    PRIMARY KEY (symbol, timeframe, open_time, available_at)
) WITHOUT ROWID;
INSERT INTO candles_v SELECT symbol, timeframe, open_time, open, high, low, close, volume,
    quote_volume, trades, source, available_at, ingested_at, source_bars FROM candles;
DROP TABLE candles;
ALTER TABLE candles_v RENAME TO candles;
CREATE INDEX candles_available ON candles (symbol, timeframe, available_at);

CREATE TABLE network_points_v (
    series       TEXT    NOT NULL,
    time         INTEGER NOT NULL,
    value        REAL    NOT NULL,
    source       TEXT    NOT NULL,
    available_at INTEGER NOT NULL,
    ingested_at  INTEGER NOT NULL,
    PRIMARY KEY (series, time, available_at)
) WITHOUT ROWID;
INSERT INTO network_points_v SELECT series, time, value, source, available_at, ingested_at
FROM network_points;
DROP TABLE network_points;
ALTER TABLE network_points_v RENAME TO network_points;
