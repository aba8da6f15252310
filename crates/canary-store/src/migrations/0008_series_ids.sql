-- Each bar names its series by a small integer instead of repeating the symbol and the
-- timeframe as text: a smaller key, cheaper to compare and to store.
CREATE TABLE series (
    id        INTEGER PRIMARY KEY,
    symbol    TEXT NOT NULL,
    timeframe TEXT NOT NULL,
    UNIQUE (symbol, timeframe)
);
INSERT INTO series (symbol, timeframe)
SELECT DISTINCT symbol, timeframe FROM candles ORDER BY symbol, timeframe;

CREATE TABLE candles_s (
    series_id    INTEGER NOT NULL REFERENCES series (id),
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
    PRIMARY KEY (series_id, open_time, available_at)
) WITHOUT ROWID;
INSERT INTO candles_s
SELECT s.id, c.open_time, c.open, c.high, c.low, c.close, c.volume, c.quote_volume, c.trades,
       c.source, c.available_at, c.ingested_at, c.source_bars
FROM candles c JOIN series s ON s.symbol = c.symbol AND s.timeframe = c.timeframe;
DROP TABLE candles;
ALTER TABLE candles_s RENAME TO candles;
