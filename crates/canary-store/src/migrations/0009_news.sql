-- News items, point in time: an item is known from `available_at` (first seen, or its
-- publication time when earlier). Items are never updated: a later copy of an item's text
-- is stored with `duplicate_of` naming the first; the same article seen again (same id or
-- canonical URL) adds nothing.
CREATE TABLE news_items (
    id           TEXT    NOT NULL PRIMARY KEY,
    outlet       TEXT    NOT NULL,
    source       TEXT    NOT NULL, -- feed URL or file name
    url          TEXT,             -- canonical
    title        TEXT    NOT NULL,
    summary      TEXT    NOT NULL,
    published_at INTEGER,          -- UTC ms, as the outlet says
    available_at INTEGER NOT NULL, -- UTC ms
    language     TEXT,
    duplicate_of TEXT,
    content_hash INTEGER NOT NULL, -- of the words of title and summary
    simhash      INTEGER NOT NULL,
    ingested_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX news_items_available ON news_items (available_at);
CREATE INDEX news_items_url ON news_items (url) WHERE url IS NOT NULL;
CREATE INDEX news_items_content ON news_items (content_hash);

-- Feeds polled by `canary news poll`: conditional-request validators, schedule and health.
CREATE TABLE news_feeds (
    url           TEXT    NOT NULL PRIMARY KEY,
    interval_s    INTEGER NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    added_at      INTEGER NOT NULL,
    last_polled   INTEGER,
    next_poll     INTEGER NOT NULL,
    failures      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    last_status   TEXT,
    items         INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
