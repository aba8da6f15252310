-- Candles, point in time. A bar is known from `available_at` (its close time for imported
-- bars); reads "as of T" see only rows with available_at <= T. Rows are never updated: a
-- re-import of the same bar is a no-op, a different value for the same key is refused.
CREATE TABLE candles (
    symbol       TEXT    NOT NULL,
    timeframe    TEXT    NOT NULL,
    open_time    INTEGER NOT NULL, -- UTC ms
    open         REAL    NOT NULL,
    high         REAL    NOT NULL,
    low          REAL    NOT NULL,
    close        REAL    NOT NULL,
    volume       REAL    NOT NULL, -- base asset
    quote_volume REAL,
    trades       INTEGER,
    source       TEXT    NOT NULL, -- file name, 'sim', 'resample:4h', ...
    available_at INTEGER NOT NULL, -- UTC ms
    ingested_at  INTEGER NOT NULL, -- UTC ms
    source_bars  INTEGER,          -- resampled bars: how many lower bars built it
    PRIMARY KEY (symbol, timeframe, open_time)
) WITHOUT ROWID;

CREATE INDEX candles_available ON candles (symbol, timeframe, available_at);
