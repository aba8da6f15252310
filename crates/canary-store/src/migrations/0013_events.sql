-- Every event the live engine took in (trades, bars, gaps, reconnections), in the order it
-- took them, each with the time Canary had it: a live day replays from here exactly as it ran.
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY,        -- the engine's order
    source       TEXT    NOT NULL,
    kind         TEXT    NOT NULL,           -- trade, bar, gap, reconnected, stale
    symbol       TEXT,
    event_time   INTEGER NOT NULL,           -- the event's own time, UTC ms
    available_at INTEGER NOT NULL,           -- when Canary had it, UTC ms
    payload      TEXT    NOT NULL            -- JSON of the event
);
CREATE INDEX events_available ON events (available_at);
