-- Derivatives series (funding rates, open interest, liquidations, mark and index prices), one
-- value per series and time, versioned like network series. `series` is the key
-- KIND:MARKET:VENUES:INTERVAL (canary_model::derivatives::DerivSeries); a level is available at
-- its time, a flow (liquidations) at its bar's close, a revision from when it was ingested.
CREATE TABLE derivative_points (
    series       TEXT    NOT NULL,
    time         INTEGER NOT NULL, -- UTC ms: the instant of a level, the bar's open of a flow
    value        REAL    NOT NULL,
    source       TEXT    NOT NULL,
    available_at INTEGER NOT NULL,
    ingested_at  INTEGER NOT NULL,
    PRIMARY KEY (series, time, available_at)
) WITHOUT ROWID;
