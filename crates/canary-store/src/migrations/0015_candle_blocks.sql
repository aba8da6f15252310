-- Bars of a fresh series written by one import, packed a few thousand to a row (see
-- blocks.rs for the encoding): one version of each bar, from `source` at `ingested_at`, each
-- available `avail_offset` ms after its open time. Reads merge them with `candles`.
CREATE TABLE candle_blocks (
    series_id    INTEGER NOT NULL REFERENCES series (id),
    first_open   INTEGER NOT NULL, -- UTC ms of the block's first bar
    last_open    INTEGER NOT NULL, -- and of its last
    bars         INTEGER NOT NULL,
    source       TEXT    NOT NULL,
    ingested_at  INTEGER NOT NULL,
    avail_offset INTEGER NOT NULL,
    data         BLOB    NOT NULL,
    PRIMARY KEY (series_id, first_open)
) WITHOUT ROWID;
