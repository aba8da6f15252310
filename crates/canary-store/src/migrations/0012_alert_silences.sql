-- Silences: an owner mutes a rule's notices for a time range (Alertmanager's semantics: the
-- rule is still evaluated and its state still moves; a notice due inside the range is logged
-- as silenced and not sent).
CREATE TABLE alert_silences (
    id          INTEGER PRIMARY KEY,
    owner       TEXT    NOT NULL,            -- SHA-256 of the owner's token, hex
    rule_id     INTEGER NOT NULL REFERENCES alert_rules (id),
    starts_at   INTEGER NOT NULL,            -- UTC ms, inclusive
    ends_at     INTEGER NOT NULL,            -- UTC ms, exclusive
    comment     TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX alert_silences_rule ON alert_silences (rule_id, ends_at);
