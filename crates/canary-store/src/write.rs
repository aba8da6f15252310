//! The one write routine: insert a batch of keyed rows in a transaction; a row already stored
//! with the same values is present, one stored with other values is a revision (kept as a new
//! version available from its ingest time, when the table keeps versions and the writer
//! allows it) or a conflict that writes nothing.

use rusqlite::Transaction;

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
}

/// A row a table knows how to compare and write.
pub(crate) trait Record {
    /// The values compared with a stored version.
    type Values;
    /// Whether the table keeps versions (an outflow of a transaction cannot be revised).
    const VERSIONED: bool;

    /// The latest stored version of this row's key, if any.
    fn latest(&self, tx: &Transaction<'_>) -> rusqlite::Result<Option<Stored<Self::Values>>>;
    /// This row's values equal the stored ones, bit for bit.
    fn same(&self, stored: &Self::Values) -> bool;
    /// When this row's values became knowable.
    fn available_at(&self) -> i64;
    /// Write the row, available from `available_at`.
    fn put(
        &self,
        tx: &Transaction<'_>,
        source: &str,
        available_at: i64,
        ingested_at: i64,
    ) -> rusqlite::Result<()>;
    /// What the row is (`BTCUSDT 4h bar at …`), and the two versions as people read them.
    fn describe(&self, stored: &Self::Values) -> (String, String, String);
}

/// Insert `rows` in the open transaction (the caller commits). `progress` is called with the
/// number of rows handled, every few thousand.
pub(crate) fn insert<R: Record>(
    tx: &Transaction<'_>,
    rows: impl IntoIterator<Item = R>,
    source: &str,
    ingested_at: i64,
    revisions: Revisions,
    mut progress: impl FnMut(usize),
) -> Result<InsertReport, StoreError> {
    let mut report = InsertReport::default();
    let mut index = 0;
    for row in rows {
        match row.latest(tx)? {
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
                    index,
                    what,
                    stored_source: s.source,
                    stored,
                    new,
                })));
            }
            None => {
                row.put(tx, source, row.available_at(), ingested_at)?;
                report.inserted += 1;
            }
        }
        index += 1;
        if index % 4096 == 0 {
            progress(index);
        }
    }
    progress(index);
    Ok(report)
}
