//! The one write routine: insert a batch of keyed rows in a transaction; a row already stored
//! with the same values is present, one stored with other values is a revision (kept as a new
//! version available from its ingest time, when the table keeps versions and the writer
//! allows it) or a conflict that writes nothing.

use crate::sql::Db;
use crate::{Conflict, InsertReport, StoreError};

/// What to do with a row whose key is stored with other values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Revisions {
    /// Store it as a new version, available from its ingest time: reads as of an earlier time
    /// still see the old version.
    #[default]
    Keep,
    /// Refuse the whole batch.
    Refuse,
}

/// The latest stored version of a row's key.
pub(crate) struct Stored<V> {
    pub values: V,
    pub source: String,
    pub available_at: i64,
    pub ingested_at: i64,
}

/// A row a table knows how to compare and write.
pub(crate) trait Record {
    /// The values compared with a stored version.
    type Values;
    /// Whether the table keeps versions (an outflow of a transaction cannot be revised).
    const VERSIONED: bool;

    /// The latest stored version of this row's key, if any.
    fn latest(&self, tx: &Db) -> Result<Option<Stored<Self::Values>>, StoreError>;
    /// This row's values equal the stored ones, bit for bit.
    fn same(&self, stored: &Self::Values) -> bool;
    /// When this row's values became knowable.
    fn available_at(&self) -> i64;
    /// Write the row, available from `available_at`.
    fn put(
        &self,
        tx: &Db,
        source: &str,
        available_at: i64,
        ingested_at: i64,
    ) -> Result<(), StoreError>;
    /// What the row is (`BTCUSDT 4h bar at …`), and the two versions as people read them.
    fn describe(&self, stored: &Self::Values) -> (String, String, String);
    /// Why the row may not be stored (a value that is not finite, or out of its bounds), with
    /// what the row is: the last line of defence behind the importers' own checks.
    fn invalid(&self) -> Option<(String, String)> {
        None
    }
}

/// Why a streamed write stopped; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError<E> {
    /// The rows' own source failed (a bad line of a file): its error.
    #[error("{0}")]
    Input(E),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Insert tagged rows in the open transaction (the caller commits). A tag is the caller's
/// name for a row (its position, or its file line) and comes back in errors. `progress` is
/// called with the number of rows handled, every few thousand.
pub(crate) fn insert<R: Record, E>(
    tx: &Db,
    rows: impl IntoIterator<Item = Result<(u64, R), E>>,
    source: &str,
    ingested_at: i64,
    revisions: Revisions,
    mut progress: impl FnMut(usize),
) -> Result<InsertReport, WriteError<E>> {
    let mut report = InsertReport::default();
    let mut handled = 0;
    for row in rows {
        let (tag, row) = row.map_err(WriteError::Input)?;
        if let Some((what, reason)) = row.invalid() {
            return Err(StoreError::Invalid { tag, what, reason }.into());
        }
        match row.latest(tx)? {
            Some(s) if s.ingested_at == ingested_at && s.source == source => {
                return Err(duplicate(tx, &row, tag)?.into());
            }
            Some(s) if row.same(&s.values) => report.present += 1,
            Some(s) if R::VERSIONED && revisions == Revisions::Keep => {
                // Known from its ingest time, and always after the version it revises.
                let at = row.available_at().max(ingested_at).max(s.available_at + 1);
                row.put(tx, source, at, ingested_at)?;
                report.revised += 1;
            }
            Some(s) => {
                let (what, stored, new) = row.describe(&s.values);
                return Err(StoreError::Conflict(Box::new(Conflict {
                    index: tag,
                    what,
                    stored_source: s.source,
                    stored,
                    new,
                }))
                .into());
            }
            None => {
                row.put(tx, source, row.available_at(), ingested_at)?;
                report.inserted += 1;
            }
        }
        handled += 1;
        if handled % 4096 == 0 {
            progress(handled);
        }
    }
    progress(handled);
    Ok(report)
}

/// The error for a row whose key this batch has already written.
fn duplicate<R: Record>(tx: &Db, row: &R, tag: u64) -> Result<StoreError, StoreError> {
    let what = match row.latest(tx)? {
        Some(s) => row.describe(&s.values).0,
        None => "a row".to_string(),
    };
    Ok(StoreError::Duplicate { tag, what })
}

/// The store error of a write whose input cannot fail.
pub(crate) fn unwrap_store(e: WriteError<std::convert::Infallible>) -> StoreError {
    match e {
        WriteError::Store(e) => e,
        WriteError::Input(never) => match never {},
    }
}
