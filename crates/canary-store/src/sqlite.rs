//! The SQLite backend: one file in WAL mode, the schema's migrations embedded and applied on
//! open (tracked by `PRAGMA user_version`), one writer at a time (`BEGIN IMMEDIATE`, waiting
//! for another process's write as [`WriteWait`] says). The SQL of each kind of data lives in
//! the file of that kind (`candles/`, `news.rs`, …), written once for both engines (`sql.rs`).

use std::path::Path;

use rusqlite::Connection;

use crate::sql::{Db, Tx};
use crate::{BackendError, SqlStore, StoreError, events};

/// The embedded migrations, applied in order; `user_version` is the number applied.
pub(crate) const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_candles", include_str!("migrations/0001_candles.sql")),
    ("0002_network", include_str!("migrations/0002_network.sql")),
    (
        "0003_entity_outflows",
        include_str!("migrations/0003_entity_outflows.sql"),
    ),
    ("0004_sources", include_str!("migrations/0004_sources.sql")),
    (
        "0005_revisions",
        include_str!("migrations/0005_revisions.sql"),
    ),
    (
        "0006_write_stamps",
        include_str!("migrations/0006_write_stamps.sql"),
    ),
    (
        "0007_drop_candles_available",
        include_str!("migrations/0007_drop_candles_available.sql"),
    ),
    (
        "0008_series_ids",
        include_str!("migrations/0008_series_ids.sql"),
    ),
    ("0009_news", include_str!("migrations/0009_news.sql")),
    (
        "0010_analyses",
        include_str!("migrations/0010_analyses.sql"),
    ),
    ("0011_alerts", include_str!("migrations/0011_alerts.sql")),
    (
        "0012_alert_silences",
        include_str!("migrations/0012_alert_silences.sql"),
    ),
    ("0013_events", include_str!("migrations/0013_events.sql")),
    (
        "0014_analysis_html",
        include_str!("migrations/0014_analysis_html.sql"),
    ),
    (
        "0015_candle_blocks",
        include_str!("migrations/0015_candle_blocks.sql"),
    ),
    (
        "0016_api_tokens",
        include_str!("migrations/0016_api_tokens.sql"),
    ),
    (
        "0017_event_identity",
        include_str!("migrations/0017_event_identity.sql"),
    ),
    (
        "0018_derivatives",
        include_str!("migrations/0018_derivatives.sql"),
    ),
    (
        "0019_derivative_catalog",
        include_str!("migrations/0019_derivative_catalog.sql"),
    ),
    ("0020_markets", include_str!("migrations/0020_markets.sql")),
];

impl SqlStore {
    /// Open (creating if needed) the SQLite database at `path` and bring its schema up to
    /// date.
    ///
    /// # Errors
    /// When the file cannot be opened or created, its schema is newer than this build, or a
    /// migration fails.
    pub fn open(path: &Path) -> Result<SqlStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                dir: dir.to_path_buf(),
                source,
            })?;
        }
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source: BackendError::new(source),
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        // 32 MiB of page cache (the default is 2): large imports touch the B-tree's upper
        // pages on every insert; the memory limit of an import stays well under 100 MB.
        conn.pragma_update(None, "cache_size", -32_768)
            .map_err(open_err)?;
        // Readers never wait in WAL mode; writers wait in `begin_write`.
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        conn.set_prepared_statement_cache_capacity(64);
        events::register(&conn).map_err(open_err)?;
        let mut store = SqlStore::with(Db::Sqlite(conn), path.to_path_buf());
        store.migrate_sqlite()?;
        Ok(store)
    }

    /// Open a SQLite database that must already exist (for commands that only read).
    ///
    /// # Errors
    /// [`StoreError::Missing`] when there is no file at `path`; otherwise as [`SqlStore::open`].
    pub fn open_existing(path: &Path) -> Result<SqlStore, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Missing {
                path: path.to_path_buf(),
            });
        }
        SqlStore::open(path)
    }

    /// An empty SQLite store in memory (for reports whose inputs are all given).
    ///
    /// # Errors
    /// A migration error (never for this build's schema).
    pub fn in_memory() -> Result<SqlStore, StoreError> {
        SqlStore::open(Path::new(":memory:"))
    }

    /// Begin a write transaction holding the write lock from the start (`BEGIN IMMEDIATE`),
    /// waiting while another process writes: a deferred transaction that upgrades later
    /// fails at once instead. A note is given once the wait passes a second.
    pub(crate) fn begin_sqlite(&self, conn: &Connection) -> Result<Tx<'_>, StoreError> {
        let start = std::time::Instant::now();
        let first = std::time::Duration::from_secs(1).min(self.wait.limit);
        conn.busy_timeout(first)?;
        let mut attempt = conn.execute_batch("BEGIN IMMEDIATE");
        if attempt.as_ref().is_err_and(is_busy_error) {
            if let Some(note) = self.wait.note {
                note(&self.place, start.elapsed());
            }
            conn.busy_timeout(self.wait.limit.saturating_sub(start.elapsed()))?;
            attempt = conn.execute_batch("BEGIN IMMEDIATE");
        }
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        match attempt {
            Err(e) if is_busy_error(&e) => Err(StoreError::Busy {
                path: self.place.clone(),
                waited_s: start.elapsed().as_secs_f64(),
            }),
            Err(e) => Err(e.into()),
            Ok(()) => Ok(Tx::begun(&self.db)),
        }
    }

    fn migrate_sqlite(&mut self) -> Result<(), StoreError> {
        let Db::Sqlite(conn) = &self.db else {
            unreachable!("a SQLite store")
        };
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        self.schema_not_newer(found, MIGRATIONS.len())?;
        for (i, (name, sql)) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(found).unwrap_or(0))
        {
            let err = |source| StoreError::Migrate {
                path: self.place.clone(),
                name,
                source: BackendError::new(source),
            };
            let tx = self.begin_write()?;
            // Another process may have applied it while this one waited.
            let now: i64 = conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(err)?;
            if now > i64::try_from(i).unwrap_or(i64::MAX) {
                continue;
            }
            conn.execute_batch(sql).map_err(err)?;
            conn.pragma_update(
                None,
                "user_version",
                i64::try_from(i + 1).unwrap_or(i64::MAX),
            )
            .map_err(err)?;
            tx.commit()?;
        }
        Ok(())
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sql(BackendError::new(e))
    }
}

fn is_busy_error(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::{Source, StoredOutflow, WriteWait};
    use std::sync::atomic::{AtomicBool, Ordering};

    static NOTED: AtomicBool = AtomicBool::new(false);

    fn note(_: &Path, _: std::time::Duration) {
        NOTED.store(true, Ordering::SeqCst);
    }

    #[test]
    fn a_writer_waits_for_another_then_gives_up_writing_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let holder = SqlStore::open(&path).unwrap();
        let mut waiter = SqlStore::open(&path).unwrap();
        waiter.set_write_wait(WriteWait {
            limit: std::time::Duration::from_millis(1500),
            note: Some(note),
        });
        let tx = holder.begin_write().unwrap();
        let start = std::time::Instant::now();
        let e = waiter
            .insert_outflows(
                &[StoredOutflow {
                    entity: "M".into(),
                    txid: "t".into(),
                    destination: "exchange".into(),
                    btc: 1.0,
                    time: canary_model::Timestamp::from_millis(0),
                }],
                Source::real("s"),
                canary_model::Timestamp::from_millis(0),
            )
            .unwrap_err();
        assert!(matches!(e, StoreError::Busy { .. }), "{e}");
        assert!(start.elapsed() >= std::time::Duration::from_millis(1400));
        assert!(NOTED.load(Ordering::SeqCst), "a note after a second");
        // Readers are not blocked by the writer.
        assert!(waiter.flow_entities().unwrap().is_empty());
        drop(tx);
        // Once the lock is free the write goes through.
        assert!(waiter.flow_entities().is_ok());
    }
}
