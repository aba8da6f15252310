-- The derivatives series and their sources, each pair with the earliest availability of a value
-- it wrote: listing the series as of T reads this and seeks each series' first and last value
-- by key, instead of reading every value of every series.
CREATE TABLE derivative_catalog (
    series          TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    first_available INTEGER NOT NULL,
    PRIMARY KEY (series, source)
) WITHOUT ROWID;
INSERT INTO derivative_catalog (series, source, first_available)
SELECT series, source, MIN(available_at) FROM derivative_points GROUP BY series, source;
