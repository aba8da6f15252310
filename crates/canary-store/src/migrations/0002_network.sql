-- Network series (hash rate, difficulty, subsidy, fleet efficiency, fees), one value per
-- series and time, point in time like candles: a daily value is available when its day ends.
CREATE TABLE network_points (
    series       TEXT    NOT NULL, -- hashrate_hs, difficulty, subsidy_btc, subsidy_usd, fees_btc,
                                   -- fleet_efficiency_{lower,estimate,upper}_j_per_th
    time         INTEGER NOT NULL, -- UTC ms (the day's start for daily series)
    value        REAL    NOT NULL,
    source       TEXT    NOT NULL,
    available_at INTEGER NOT NULL,
    ingested_at  INTEGER NOT NULL,
    PRIMARY KEY (series, time)
) WITHOUT ROWID;
