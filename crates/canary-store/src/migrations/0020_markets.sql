-- Equities, indices and daily gauges, one value per series and day, versioned like the other
-- point tables. `series` is the key MARKET:TICKER:FIELD (canary_model::markets::MarketSeries);
-- `time` is 00:00 UTC of the day the value belongs to; a US value is available from its
-- exchange's close that day, a gauge from the start of its UTC day, a revision from when it was
-- ingested.
CREATE TABLE market_points (
    series       TEXT    NOT NULL,
    time         INTEGER NOT NULL,
    value        REAL    NOT NULL,
    source       TEXT    NOT NULL,
    available_at INTEGER NOT NULL,
    ingested_at  INTEGER NOT NULL,
    PRIMARY KEY (series, time, available_at)
) WITHOUT ROWID;
-- The market series and their sources, as derivative_catalog is for derivatives.
CREATE TABLE market_catalog (
    series          TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    first_available INTEGER NOT NULL,
    PRIMARY KEY (series, source)
) WITHOUT ROWID;
