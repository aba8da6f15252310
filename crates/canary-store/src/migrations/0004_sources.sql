-- The kind of every source that wrote rows: real (observed), sim (Canary's simulator, or built
-- from simulated data) or user (typed in). Readers decide "simulated?" from this table, never
-- from a source's name.
CREATE TABLE sources (
    name TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('real', 'sim', 'user'))
) WITHOUT ROWID;

-- Rows written before kinds were recorded: the simulator always named its rows `sim`, and
-- bars resampled from them `sim:resample:…`; everything else was imported or fetched.
INSERT INTO sources (name, kind)
SELECT DISTINCT source, CASE WHEN source = 'sim' OR source LIKE 'sim:%' THEN 'sim' ELSE 'real' END
FROM candles;
INSERT OR IGNORE INTO sources (name, kind) SELECT DISTINCT source, 'real' FROM network_points;
INSERT OR IGNORE INTO sources (name, kind) SELECT DISTINCT source, 'real' FROM entity_outflows;
