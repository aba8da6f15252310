-- Each event is stored once. Its identity is its source, its kind, its own time, the hash of
-- its payload (`content`, computed by the store: `events.rs`) and its occurrence: how many
-- events of the same content its source sent before it at that time in the run that stored
-- it (two equal trades of one millisecond without a trade id are two events). A run of the
-- same bar file again, or a restart, sends the same events again and stores none of them.
--
-- Copies stored before this: the first of each (the lowest `seq`) is kept, as occurrence 0.
-- Events of equal payload, source and time cannot be told from copies here; equal trades of
-- one millisecond recorded before this keep one.
CREATE TABLE events_v (
    seq          INTEGER PRIMARY KEY,        -- the engine's order
    source       TEXT    NOT NULL,
    kind         TEXT    NOT NULL,           -- trade, bar, gap, reconnected, stale, malformed
    symbol       TEXT,
    event_time   INTEGER NOT NULL,           -- the event's own time, UTC ms
    available_at INTEGER NOT NULL,           -- when Canary had it, UTC ms
    payload      TEXT    NOT NULL,           -- JSON of the event
    content      INTEGER NOT NULL,           -- hash of the payload
    occurrence   INTEGER NOT NULL            -- equal events of the source before it at its time
);
INSERT INTO events_v
SELECT seq, source, kind, symbol, event_time, available_at, payload,
       canary_event_content(payload), 0
FROM events
WHERE seq IN (SELECT MIN(seq) FROM events GROUP BY source, kind, event_time, payload);
DROP TABLE events;
ALTER TABLE events_v RENAME TO events;
CREATE INDEX events_available ON events (available_at);
CREATE UNIQUE INDEX events_identity ON events (source, kind, event_time, content, occurrence);
