//! Canary's point-in-time store.
//!
//! One SQLite file in WAL mode; the schema's migrations are embedded in the binary and applied
//! on open (tracked by `PRAGMA user_version`). Every read takes an optional as-of time and
//! returns only rows whose `available_at` is at or before it: what was knowable then.
//!
//! - [`Store`]: open (or refuse a missing file for readers), migrate, take the write lock and
//!   wait for another writer ([`WriteWait`]), record each source's kind ([`Source`]).
//! - Candles (`candles.rs`): streamed inserts in one transaction, point-in-time reads of the
//!   latest version of each bar (or the last N), bars keyed by an integer series id; bars
//!   appended in order packed into blocks (`blocks.rs`, migration 0015), merged into every
//!   read.
//! - `write.rs`: the one write routine: present, revised ([`Revisions`]) or conflicting rows,
//!   a key written twice in one batch refused.
//! - News (`news.rs`, migration 0009): items stored once, copies marked with the item they
//!   copy (`canary_news::dedup`), read as of T; the feeds to poll with their validators and
//!   back-off.
//! - Alerts (`alerts.rs`, migrations 0011 and 0012): rules by owner, silences, state after each evaluation and
//!   the notices it produced saved together, deliveries with attempts and latency.
//! - API tokens (`tokens.rs`, migration 0016): issued tokens by hash, with a scope; revoked,
//!   never deleted. Rules the command line added without a token belong to `operator`.
//! - Events (`events.rs`, migrations 0013 and 0017): what the live engine took in, in order,
//!   each with when Canary had it, so that a live day replays exactly; each stored once, by
//!   its identity (source, kind, time, content, occurrence).
//! - Analyses (`analyses.rs`, migrations 0010 and 0014): append-only by content id, with
//!   versions and the HTML page as rendered when stored.
//! - Entity outflows (`flows.rs`), idempotent by transaction; network series (`network.rs`):
//!   the same as candles for hash rate, difficulty, subsidy, fees, fleet efficiency.

mod alerts;
mod analyses;
mod blocks;
mod candles;
mod events;
mod flows;
mod network;
mod news;
mod tokens;
mod write;

pub use alerts::{Delivery, Silence, StoredAlertState, StoredRule};
pub use analyses::StoredAnalysis;
pub use candles::{CandleQuery, InsertReport, NewCandle, SeriesInfo, StoredCandle};
pub use events::{NewEvent, StoredEvent, content as event_content};
pub use flows::StoredOutflow;
pub use network::NetworkPoint;
pub use news::{Feed, FeedPoll, NewsInsertReport, NewsQuery};
pub use tokens::StoredToken;
pub use write::{Revisions, WriteError};

use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

use canary_model::SourceKind;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

/// The embedded migrations, applied in order; `user_version` is the number applied.
const MIGRATIONS: &[(&str, &str)] = &[
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
];

/// Who wrote a batch of rows: the source's name (a file, an API address, `sim`) and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source<'a> {
    pub name: &'a str,
    pub kind: SourceKind,
}

impl<'a> Source<'a> {
    #[must_use]
    pub const fn real(name: &'a str) -> Self {
        Source {
            name,
            kind: SourceKind::Real,
        }
    }

    #[must_use]
    pub const fn sim(name: &'a str) -> Self {
        Source {
            name,
            kind: SourceKind::Sim,
        }
    }
}

/// A store error, with what the user can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the database's folder {dir}: {source}")]
    CreateDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open database {path}: {source} (check the path and its permissions)")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "database {path} has schema version {found}, newer than this canary knows ({known}): use a newer canary"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("migration {name} failed on {path}: {source}")]
    Migrate {
        path: PathBuf,
        name: &'static str,
        source: rusqlite::Error,
    },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("stored row is invalid ({what}): {reason}")]
    Corrupt { what: String, reason: String },
    /// A source name already recorded with another kind; nothing was written.
    #[error(
        "source {name:?} is recorded as {stored} data, and this write says {new}: give the new data another source name"
    )]
    SourceKind {
        name: String,
        stored: SourceKind,
        new: SourceKind,
    },
    /// A row whose values may not be stored (not finite, or beyond the bounds that keep the
    /// analytics finite); nothing was written.
    #[error("{what} cannot be stored: {reason}; nothing was written")]
    Invalid {
        tag: u64,
        what: String,
        reason: String,
    },
    /// A batch names the same key twice; nothing was written.
    #[error("{what} appears twice in what was written; nothing was written")]
    Duplicate { tag: u64, what: String },
    /// Another writer held the database longer than the wait limit; nothing was written.
    #[error(
        "database {path} is being written by another process and was not free after {waited_s:.1} s; nothing was written (try again, or wait longer)"
    )]
    Busy { path: PathBuf, waited_s: f64 },
    /// A command that only reads was given a database that does not exist.
    #[error("no database at {path} (import data first)")]
    Missing { path: PathBuf },
    /// A new row has the key of a stored one but other values, and may not revise it;
    /// nothing was written.
    #[error("{0}")]
    Conflict(Box<Conflict>),
}

/// A row that has the key of a stored row but other values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} conflicts with the stored one: stored (source {stored_source}) {stored}, new {new}; nothing was written"
)]
pub struct Conflict {
    /// The caller's tag of the conflicting row (its position in the batch, or its file line).
    pub index: u64,
    /// What the row is: `BTCUSDT 4h bar at 2026-02-06T00:00:00Z`, `difficulty on …`.
    pub what: String,
    pub stored_source: String,
    pub stored: String,
    pub new: String,
}

/// How a writer waits for another writer to finish.
#[derive(Debug, Clone, Copy)]
pub struct WriteWait {
    /// Give up after this long.
    pub limit: std::time::Duration,
    /// Called once when the wait passes a second (a progress note for the user).
    pub note: Option<fn(&Path, std::time::Duration)>,
}

impl Default for WriteWait {
    fn default() -> Self {
        WriteWait {
            limit: std::time::Duration::from_secs(60),
            note: None,
        }
    }
}

/// An open store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    wait: WriteWait,
}

impl Store {
    /// Open (creating if needed) the database at `path` and bring its schema up to date.
    ///
    /// # Errors
    /// When the file cannot be opened or created, its schema is newer than this build, or a
    /// migration fails.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                dir: dir.to_path_buf(),
                source,
            })?;
        }
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
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
        let mut store = Store {
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
    /// [`StoreError::Missing`] when there is no file at `path`; otherwise as [`Store::open`].
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Missing {
                path: path.to_path_buf(),
            });
        }
        Store::open(path)
    }

    /// An empty store in memory (for reports whose inputs are all given).
    ///
    /// # Errors
    /// A migration error (never for this build's schema).
    pub fn in_memory() -> Result<Store, StoreError> {
        Store::open(Path::new(":memory:"))
    }

    /// How writes wait for another writer.
    pub fn set_write_wait(&mut self, wait: WriteWait) {
        self.wait = wait;
    }

    /// Begin a write transaction holding the write lock from the start (`BEGIN IMMEDIATE`),
    /// waiting while another process writes: a deferred transaction that upgrades later
    /// fails at once instead. A note is given once the wait passes a second.
    fn begin_write(&self) -> Result<Transaction<'_>, StoreError> {
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

    /// The kind of every source that has written rows, by name.
    ///
    /// # Errors
    /// A database error, or a kind this build does not know.
    pub fn source_kinds(&self) -> Result<BTreeMap<String, SourceKind>, StoreError> {
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

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        #[allow(clippy::cast_possible_wrap)]
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
                source,
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

/// The `ingested_at` of the rows a write transaction stores: `now`, or one millisecond after
/// the previous batch's stamp if that is not earlier, so that every batch's stamp is its own.
impl Store {
    /// A value that changes whenever data a report reads changes (bars, network series,
    /// outflows, news, analyses): a cache of reports keyed on it never serves a stale one.
    ///
    /// # Errors
    /// A database error.
    pub fn data_version(&self) -> Result<String, StoreError> {
        Ok(self.conn.query_row(
            "SELECT (SELECT last FROM write_stamps) || ':' ||
                    (SELECT COUNT(*) || '/' || IFNULL(MAX(ingested_at), 0) FROM news_items) || ':' ||
                    (SELECT COUNT(*) || '/' || IFNULL(MAX(created_at), 0) FROM analyses)",
            [],
            |r| r.get(0),
        )?)
    }
}

fn stamp(tx: &Transaction<'_>, now: canary_model::Timestamp) -> Result<i64, StoreError> {
    let last: i64 = tx.query_row("SELECT last FROM write_stamps", [], |r| r.get(0))?;
    let at = now.millis().max(last + 1);
    tx.execute("UPDATE write_stamps SET last = ?1", params![at])?;
    Ok(at)
}

/// Record a source's kind inside a write transaction, refusing a name already recorded with
/// another kind.
fn register_source(tx: &Transaction<'_>, source: Source<'_>) -> Result<(), StoreError> {
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
    use std::sync::atomic::{AtomicBool, Ordering};

    static NOTED: AtomicBool = AtomicBool::new(false);

    fn note(_: &Path, _: std::time::Duration) {
        NOTED.store(true, Ordering::SeqCst);
    }

    #[test]
    fn a_writer_waits_for_another_then_gives_up_writing_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let holder = Store::open(&path).unwrap();
        let mut waiter = Store::open(&path).unwrap();
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
