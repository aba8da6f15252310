-- Alert rules, their state and their deliveries. State is stored after every evaluation so
-- that a restart goes on where it stopped: no alert delivered twice, none missed.
CREATE TABLE alert_rules (
    id          INTEGER PRIMARY KEY,
    owner       TEXT    NOT NULL,            -- SHA-256 of the owner's token, hex
    rule        TEXT    NOT NULL,
    timeframe   TEXT    NOT NULL,
    policy      TEXT    NOT NULL,            -- JSON of canary_alerts::state::Policy
    channel     TEXT    NOT NULL,            -- JSON: where notices go
    created_at  INTEGER NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE alert_state (
    rule_id       INTEGER NOT NULL PRIMARY KEY REFERENCES alert_rules (id),
    fingerprint   TEXT    NOT NULL,
    alert         TEXT    NOT NULL,          -- JSON of canary_alerts::state::Alert
    evaluator     TEXT,                      -- JSON: the previous values (for crossings)
    evaluated_to  INTEGER NOT NULL           -- the last bar close evaluated, UTC ms
) WITHOUT ROWID;

CREATE TABLE alert_deliveries (
    idempotency_key TEXT    NOT NULL PRIMARY KEY, -- fingerprint + notice kind + time
    rule_id         INTEGER NOT NULL,
    notice          TEXT    NOT NULL,             -- JSON
    late            INTEGER NOT NULL,             -- 1: fired while no evaluator ran
    status          TEXT    NOT NULL,             -- pending, delivered, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    latency_ms      INTEGER,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
) WITHOUT ROWID;
