//! The store: one type, [`SqlStore`], on either engine (`sqlite.rs`: one file; `pg.rs`:
//! a server shared by several processes), with what every write does whatever the kind:
//! begin with the write lock, stamp its rows, record its source's kind.

use std::collections::BTreeMap;
use std::path::PathBuf;

use canary_model::SourceKind;

use crate::sql::{Db, Dialect, Tx, args};
use crate::{Catalog, Source, StoreError, WriteWait};

/// An open store, on SQLite ([`SqlStore::open`]) or PostgreSQL ([`SqlStore::connect`]).
#[derive(Debug)]
pub struct SqlStore {
    pub(crate) db: Db,
    /// Where it is, as errors name it: the file, or the server's address without a password.
    pub(crate) place: PathBuf,
    pub(crate) wait: WriteWait,
    /// Sources and series ids committed writes have seen.
    pub(crate) known: crate::live::Known,
}

impl SqlStore {
    pub(crate) fn with(db: Db, place: PathBuf) -> Self {
        SqlStore {
            db,
            place,
            wait: WriteWait::default(),
            known: crate::live::Known::default(),
        }
    }

    /// How writes wait for another writer.
    pub fn set_write_wait(&mut self, wait: WriteWait) {
        self.wait = wait;
    }

    /// The number of migrations this build knows, or the error for a schema a newer build
    /// wrote (`found` steps applied): such a store is refused, not written over.
    pub(crate) fn schema_not_newer(&self, found: i64, known: usize) -> Result<i64, StoreError> {
        let known = i64::try_from(known).unwrap_or(i64::MAX);
        if found > known {
            return Err(StoreError::TooNew {
                path: self.place.clone(),
                found,
                known,
            });
        }
        Ok(known)
    }

    /// Begin a write transaction holding the store's write lock from the start, so that
    /// writers take turns, whichever process they are in (waiting as [`WriteWait`] says).
    pub(crate) fn begin_write(&self) -> Result<Tx<'_>, StoreError> {
        match &self.db {
            Db::Sqlite(conn) => self.begin_sqlite(conn),
            Db::Postgres(_) => self.begin_postgres(),
        }
    }
}

impl Catalog for SqlStore {
    fn source_kinds(&self) -> Result<BTreeMap<String, SourceKind>, StoreError> {
        let rows = self.db.all("SELECT name, kind FROM sources", &[], |r| {
            Ok((r.get::<String>(0)?, r.get::<String>(1)?))
        })?;
        let mut out = BTreeMap::new();
        for (name, kind) in rows {
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
        let last: i64 = self.db.value("SELECT last FROM write_stamps", &[])?;
        let count_max = |table: &str, column: &str| -> Result<String, StoreError> {
            self.db
                .one(
                    &format!("SELECT COUNT(*), COALESCE(MAX({column}), 0) FROM {table}"),
                    &[],
                    |r| Ok(format!("{}/{}", r.get::<i64>(0)?, r.get::<i64>(1)?)),
                )
                .map(Option::unwrap_or_default)
        };
        Ok(format!(
            "{last}:{}:{}",
            count_max("news_items", "ingested_at")?,
            count_max("analyses", "created_at")?
        ))
    }
}

/// The `ingested_at` of the rows a write transaction stores: `now`, or one millisecond after
/// the previous batch's stamp if that is not earlier, so that every batch's stamp is its own.
pub(crate) fn stamp(tx: &Db, now: canary_model::Timestamp) -> Result<i64, StoreError> {
    tx.value(
        "UPDATE write_stamps SET last = CASE WHEN last + 1 > ?1 THEN last + 1 ELSE ?1 END
         RETURNING last",
        args![now.millis()],
    )
}

/// Record a source's kind inside a write transaction, refusing a name already recorded with
/// another kind.
pub(crate) fn register_source(tx: &Db, source: Source<'_>) -> Result<(), StoreError> {
    let stored: Option<String> = tx.one(
        "SELECT kind FROM sources WHERE name = ?1",
        args![source.name],
        |r| r.get(0),
    )?;
    match stored {
        None => {
            tx.exec(
                "INSERT INTO sources (name, kind) VALUES (?1, ?2)",
                args![source.name, source.kind.as_str()],
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

/// The distinct values of a text column of each group, joined by commas: SQLite's
/// `GROUP_CONCAT(DISTINCT c)` (in no set order), PostgreSQL's `string_agg` (in byte order).
pub(crate) fn distinct_list(db: &Db, column: &str) -> String {
    match db.dialect() {
        Dialect::Sqlite => format!("GROUP_CONCAT(DISTINCT {column})"),
        Dialect::Postgres => format!("string_agg(DISTINCT {column}, ',' ORDER BY {column})"),
    }
}
