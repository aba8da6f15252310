-- Tokens the server issues (`canary tokens create`): only their SHA-256 is kept. A request's
-- bearer token must be one of these, not revoked; its rules are owned by the hash, as before.
CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    hash        TEXT    NOT NULL UNIQUE,     -- SHA-256 of the token, hex
    scope       TEXT    NOT NULL,            -- read | alerts
    created_at  INTEGER NOT NULL,            -- UTC ms
    revoked_at  INTEGER                      -- UTC ms; NULL while it is valid
);

-- Rules the command line added without a token belonged to the token `local`, which any HTTP
-- client could send. They belong to the operator now: an owner no bearer token hashes to.
UPDATE alert_rules
SET owner = 'operator'
WHERE owner = '25bf8e1a2393f1108d37029b3df5593236c755742ec93465bbafa9b290bddcf6';
