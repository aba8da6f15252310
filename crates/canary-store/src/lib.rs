//! Canary's point-in-time store.
//!
//! The surface is one trait per kind of data (`traits.rs`: [`CandleStore`], [`NetworkStore`],
//! [`FlowStore`], [`NewsStore`], [`AnalysisStore`], [`AlertStore`], [`TokenStore`],
//! [`EventStore`], [`Catalog`]), each with the contract a backend keeps; [`Stores`] is all of
//! them, and [`open`] gives one as a `Box<dyn Stores>`. Every read takes an optional as-of
//! time and returns only rows whose `available_at` is at or before it: what was knowable then.
//! One conformance suite ([`conformance`]), written once and generic over the backend,
//! checks the contracts; a new backend must pass it unchanged.
//!
//! One type, [`SqlStore`] (`store.rs`), on two engines: SQLite (`sqlite.rs`: one file in WAL
//! mode, the schema's migrations embedded and applied on open, tracked by `PRAGMA
//! user_version`) and PostgreSQL (`pg.rs`: a server several processes share, its schema in
//! `migrations/postgres/`), both reached through `sql.rs` so that the SQL of each kind is
//! written once. On both, the write lock is taken at once and another writer waited for
//! ([`WriteWait`]), and each source's kind recorded ([`Source`]). The SQL of each kind lives
//! in its file (the SQLite migration numbers given):
//! - Candles (`candles/`): streamed inserts in one transaction, point-in-time reads of the
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
//! - What the live engine took (`live.rs`): its events and the bars that closed, stored in
//!   one transaction and few statements.
//! - Analyses (`analyses.rs`, migrations 0010 and 0014): append-only by content id, with
//!   versions and the HTML page as rendered when stored.
//! - Entity outflows (`flows.rs`), idempotent by transaction; network series (`network.rs`):
//!   the same as candles for hash rate, difficulty, subsidy, fees, fleet efficiency.

mod alerts;
mod analyses;
mod blocks;
mod candles;
pub mod conformance;
mod derivatives;
mod events;
mod flows;
mod live;
mod markets;
mod network;
mod news;
mod pg;
mod points;
mod sql;
mod sqlite;
mod store;
mod tokens;
mod traits;
mod write;

pub use alerts::{Delivery, Silence, StoredAlertState, StoredRule};
pub use analyses::StoredAnalysis;
pub use candles::{CandleQuery, InsertReport, NewCandle, SeriesInfo, StoredCandle};
pub use derivatives::DerivSeriesInfo;
pub use events::{NewEvent, StoredEvent, content as event_content};
pub use flows::StoredOutflow;
pub use live::{SeriesBars, Taken};
pub use markets::MarketSeriesInfo;
pub use news::{Feed, FeedPoll, NewsInsertReport, NewsQuery};
pub use points::{Point, SeriesListing};
pub use store::SqlStore;
pub(crate) use store::{register_source, stamp};
pub use tokens::StoredToken;
pub use traits::{
    AlertStore, AnalysisStore, CandleStore, CandleStoreExt, Catalog, DerivativesStore, EventStore,
    FlowStore, LiveStore, MarketStore, NetworkStore, NewsStore, Stopped, Stores, TokenStore,
};
pub use write::{Revisions, WriteError};

/// The store's traits, to call their methods on any backend: `use canary_store::prelude::*;`.
pub mod prelude {
    pub use crate::traits::{
        AlertStore, AnalysisStore, CandleStore, CandleStoreExt, Catalog, DerivativesStore,
        EventStore, FlowStore, LiveStore, MarketStore, NetworkStore, NewsStore, Stores, TokenStore,
    };
}

/// The PostgreSQL server `at` names, if it names one (`postgres://…` or `postgresql://…`)
/// rather than a SQLite file.
#[must_use]
pub fn server_address(at: &Path) -> Option<&str> {
    at.to_str()
        .filter(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

/// Whether there is a store at `at`: a SQLite file that exists, or a server's address (the
/// server itself answers when the store is opened).
#[must_use]
pub fn exists(at: &Path) -> bool {
    server_address(at).is_some() || at.is_file()
}

/// Where a store is, as messages show it: the file, or the server's address without its
/// password.
#[must_use]
pub fn shown(at: &Path) -> String {
    match server_address(at) {
        Some(url) => pg::shown_address(url),
        None => at.display().to_string(),
    }
}

/// Open (creating if needed) the store at `at`, a SQLite file or a PostgreSQL server's address
/// (see [`server_address`]), and bring its schema up to date.
///
/// # Errors
/// When the store cannot be opened, created or reached, its schema is newer than this build,
/// or a migration fails.
pub fn open(at: &Path) -> Result<Box<dyn Stores>, StoreError> {
    open_with(at, WriteWait::default())
}

/// As [`open`], with writes that wait for another writer as `wait` says.
///
/// # Errors
/// As [`open`].
pub fn open_with(at: &Path, wait: WriteWait) -> Result<Box<dyn Stores>, StoreError> {
    let mut store = match server_address(at) {
        Some(url) => SqlStore::connect(url)?,
        None => SqlStore::open(at)?,
    };
    store.set_write_wait(wait);
    Ok(Box::new(store))
}

/// Open a store that must already exist (for work that only reads): a SQLite file must be
/// there; a server is connected to as by [`open`].
///
/// # Errors
/// [`StoreError::Missing`] when there is no file at `at`; otherwise as [`open`].
pub fn open_existing(at: &Path) -> Result<Box<dyn Stores>, StoreError> {
    match server_address(at) {
        Some(url) => Ok(Box::new(SqlStore::connect(url)?)),
        None => Ok(Box::new(SqlStore::open_existing(at)?)),
    }
}

/// An empty store in memory (for reports whose inputs are all given).
///
/// # Errors
/// A migration error (never for this build's schema).
pub fn in_memory() -> Result<Box<dyn Stores>, StoreError> {
    Ok(Box::new(SqlStore::in_memory()?))
}

use std::path::{Path, PathBuf};

use canary_model::SourceKind;

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
    Open { path: PathBuf, source: BackendError },
    /// A PostgreSQL server that could not be reached or refused the connection.
    #[error(
        "cannot connect to the database at {url}: {source} (is the server running, and are the address, user, password and database name right?)"
    )]
    Connect { url: String, source: BackendError },
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
        source: BackendError,
    },
    #[error("database error: {0}")]
    Sql(BackendError),
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

/// An error of the database underneath, as its driver reported it: the message is the
/// driver's, the type is not (callers never depend on a backend's crate).
#[derive(Debug)]
pub struct BackendError(Box<dyn std::error::Error + Send + Sync>);

impl BackendError {
    pub(crate) fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        BackendError(Box::new(e))
    }

    pub(crate) fn message(m: String) -> Self {
        BackendError(m.into())
    }

    /// The SQLSTATE of a PostgreSQL error, if this is one.
    pub(crate) fn postgres_code(&self) -> Option<&str> {
        self.0
            .downcast_ref::<postgres::Error>()
            .and_then(postgres::Error::code)
            .map(postgres::error::SqlState::code)
    }
}

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BackendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
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
