//! The SQLite backend: one file in WAL mode, the schema's migrations embedded and applied on
//! open (tracked by `PRAGMA user_version`), one writer at a time (`BEGIN IMMEDIATE`, waiting
//! for another process's write as [`WriteWait`] says). The SQL of each kind of data lives in
//! the file of that kind (`candles/`, `news.rs`, …), as `impl …Store for SqliteStore`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use canary_model::SourceKind;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::{BackendError, Catalog, Source, StoreError, WriteWait, events};

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

/// An open store.
#[derive(Debug)]
pub struct SqliteStore {
    pub(crate) conn: Connection,
    path: PathBuf,
    wait: WriteWait,
}

impl SqliteStore {
    /// Open (creating if needed) the database at `path` and bring its schema up to date.
    ///
    /// # Errors
    /// When the file cannot be opened or created, its schema is newer than this build, or a
    /// migration fails.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
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
        events::register(&conn).map_err(open_err)?;
        let mut store = SqliteStore {
            conn,
            path: path.to_path_buf(),
            wait: WriteWait::default(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Open a database that must already exist (for commands that only read).
    ///
    /// # Errors
    /// [`StoreError::Missing`] when there is no file at `path`; otherwise as [`SqliteStore::open`].
    pub fn open_existing(path: &Path) -> Result<SqliteStore, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Missing {
                path: path.to_path_buf(),
            });
        }
        SqliteStore::open(path)
    }

    /// An empty store in memory (for reports whose inputs are all given).
    ///
    /// # Errors
    /// A migration error (never for this build's schema).
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::open(Path::new(":memory:"))
    }

    /// How writes wait for another writer.
    pub fn set_write_wait(&mut self, wait: WriteWait) {
        self.wait = wait;
    }

    /// Begin a write transaction holding the write lock from the start (`BEGIN IMMEDIATE`),
    /// waiting while another process writes: a deferred transaction that upgrades later
    /// fails at once instead. A note is given once the wait passes a second.
    pub(crate) fn begin_write(&self) -> Result<Transaction<'_>, StoreError> {
        let start = std::time::Instant::now();
        let first = std::time::Duration::from_secs(1).min(self.wait.limit);
        self.conn.busy_timeout(first)?;
        let mut attempt =
            Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate);
        if is_busy(&attempt) {
            if let Some(note) = self.wait.note {
                note(&self.path, start.elapsed());
            }
            self.conn
                .busy_timeout(self.wait.limit.saturating_sub(start.elapsed()))?;
            attempt =
                Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate);
        }
        self.conn.busy_timeout(std::time::Duration::from_secs(5))?;
        match attempt {
            Err(e) if is_busy_error(&e) => Err(StoreError::Busy {
                path: self.path.clone(),
                waited_s: start.elapsed().as_secs_f64(),
            }),
            other => Ok(other?),
        }
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        #[expect(clippy::cast_possible_wrap)]
        let known = MIGRATIONS.len() as i64;
        if found > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known,
            });
        }
        for (i, (name, sql)) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(found).unwrap_or(0))
        {
            let err = |source| StoreError::Migrate {
                path: self.path.clone(),
                name,
                source: BackendError::new(source),
            };
            let tx = self.begin_write()?;
            // Another process may have applied it while this one waited.
            let now: i64 = tx
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(err)?;
            if now > i64::try_from(i).unwrap_or(i64::MAX) {
                continue;
            }
            tx.execute_batch(sql).map_err(err)?;
            tx.pragma_update(
                None,
                "user_version",
                i64::try_from(i + 1).unwrap_or(i64::MAX),
            )
            .map_err(err)?;
            tx.commit().map_err(err)?;
        }
        Ok(())
    }
}

impl Catalog for SqliteStore {
    fn source_kinds(&self) -> Result<BTreeMap<String, SourceKind>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT name, kind FROM sources")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (name, kind) = row?;
            let kind =
                kind.parse()
                    .map_err(|e: canary_model::SourceKindError| StoreError::Corrupt {
                        what: format!("source {name}"),
                        reason: e.to_string(),
                    })?;
            out.insert(name, kind);
        }
        Ok(out)
    }

    fn data_version(&self) -> Result<String, StoreError> {
        Ok(self.conn.query_row(
            "SELECT (SELECT last FROM write_stamps) || ':' ||
                    (SELECT COUNT(*) || '/' || IFNULL(MAX(ingested_at), 0) FROM news_items) || ':' ||
                    (SELECT COUNT(*) || '/' || IFNULL(MAX(created_at), 0) FROM analyses)",
            [],
            |r| r.get(0),
        )?)
    }
}

/// The `ingested_at` of the rows a write transaction stores: `now`, or one millisecond after
/// the previous batch's stamp if that is not earlier, so that every batch's stamp is its own.
pub(crate) fn stamp(tx: &Transaction<'_>, now: canary_model::Timestamp) -> Result<i64, StoreError> {
    let last: i64 = tx.query_row("SELECT last FROM write_stamps", [], |r| r.get(0))?;
    let at = now.millis().max(last + 1);
    tx.execute("UPDATE write_stamps SET last = ?1", params![at])?;
    Ok(at)
}

/// Record a source's kind inside a write transaction, refusing a name already recorded with
/// another kind.
pub(crate) fn register_source(tx: &Transaction<'_>, source: Source<'_>) -> Result<(), StoreError> {
    let stored: Option<String> = tx
        .query_row(
            "SELECT kind FROM sources WHERE name = ?1",
            params![source.name],
            |r| r.get(0),
        )
        .optional()?;
    match stored {
        None => {
            tx.execute(
                "INSERT INTO sources (name, kind) VALUES (?1, ?2)",
                params![source.name, source.kind.as_str()],
            )?;
            Ok(())
        }
        Some(k) if k == source.kind.as_str() => Ok(()),
        Some(k) => Err(StoreError::SourceKind {
            name: source.name.to_string(),
            stored: k.parse().unwrap_or(SourceKind::Real),
            new: source.kind,
        }),
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

fn is_busy<T>(r: &Result<T, rusqlite::Error>) -> bool {
    r.as_ref().err().is_some_and(is_busy_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoredOutflow;
    use crate::prelude::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    static NOTED: AtomicBool = AtomicBool::new(false);

    fn note(_: &Path, _: std::time::Duration) {
        NOTED.store(true, Ordering::SeqCst);
    }

    #[test]
    fn a_writer_waits_for_another_then_gives_up_writing_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let holder = SqliteStore::open(&path).unwrap();
        let mut waiter = SqliteStore::open(&path).unwrap();
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
