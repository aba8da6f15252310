//! The PostgreSQL backend: a server several Canary processes share. The schema's migrations
//! are embedded (`migrations/postgres/`) and applied on connect under an advisory lock,
//! their number kept in `canary_schema`; every write transaction first locks the one row of
//! `write_stamps` (waiting as [`WriteWait`] says), so that writers take turns as they do on
//! SQLite and each batch's stamp is its own. The SQL of each kind is the one both engines run
//! (`sql.rs`).

use std::path::PathBuf;
use std::str::FromStr;

use crate::sql::{Db, Pg, Tx};
use crate::{BackendError, SqlStore, StoreError};

/// The embedded migrations of the PostgreSQL schema, applied in order.
const MIGRATIONS: &[(&str, &str)] = &[(
    "0001_schema",
    include_str!("migrations/postgres/0001_schema.sql"),
)];

/// The advisory lock key migrations take, so that two processes starting at once apply each
/// migration once ("canary" in ASCII).
const MIGRATION_LOCK: i64 = 0x63_61_6e_61_72_79;

/// A server's address as messages show it: without its password.
pub(crate) fn shown_address(url: &str) -> String {
    match postgres::Config::from_str(url) {
        Ok(c) => shown(&c),
        Err(_) => "an unreadable PostgreSQL address".to_string(),
    }
}

/// A server's address as errors show it: without its password.
fn shown(config: &postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let port = config
        .get_ports()
        .first()
        .map_or(String::new(), |p| format!(":{p}"));
    format!(
        "postgres://{}@{}{port}/{}",
        config.get_user().unwrap_or(""),
        hosts.join(","),
        config.get_dbname().unwrap_or("")
    )
}

impl SqlStore {
    /// Connect to the PostgreSQL database at `url` (`postgres://user:password@host:port/db`,
    /// or the `key=value` form) and bring its schema up to date.
    ///
    /// # Errors
    /// [`StoreError::Connect`] when the address is not one or the server cannot be reached
    /// (the message names the address without its password); as [`SqlStore::open`] for the
    /// schema.
    pub fn connect(url: &str) -> Result<SqlStore, StoreError> {
        let mut config = postgres::Config::from_str(url).map_err(|e| StoreError::Connect {
            url: "the PostgreSQL address given".to_string(),
            source: BackendError::new(e),
        })?;
        // As libpq does: a password left out of the address may come from the environment,
        // so that it need not be written where command lines and logs show it.
        if config.get_password().is_none()
            && let Ok(p) = std::env::var("PGPASSWORD")
        {
            config.password(p);
        }
        let place = shown(&config);
        let pg = Pg::start(config).map_err(|e| StoreError::Connect {
            url: place.clone(),
            source: BackendError::new(e),
        })?;
        let mut store = SqlStore::with(Db::Postgres(pg), PathBuf::from(place));
        store.migrate_postgres()?;
        Ok(store)
    }

    fn migrate_postgres(&mut self) -> Result<(), StoreError> {
        let db = &self.db;
        db.batch("BEGIN")?;
        let tx = Tx::begun(db);
        tx.exec(
            "SELECT pg_advisory_xact_lock(?1)",
            crate::sql::args![MIGRATION_LOCK],
        )?;
        tx.batch("CREATE TABLE IF NOT EXISTS canary_schema (version BIGINT NOT NULL)")?;
        let found: i64 = tx
            .one("SELECT version FROM canary_schema", &[], |r| r.get(0))?
            .unwrap_or(0);
        let known = self.schema_not_newer(found, MIGRATIONS.len())?;
        for (name, sql) in MIGRATIONS.iter().skip(usize::try_from(found).unwrap_or(0)) {
            tx.batch(sql).map_err(|e| StoreError::Migrate {
                path: self.place.clone(),
                name,
                source: match e {
                    StoreError::Sql(b) => b,
                    other => BackendError::message(other.to_string()),
                },
            })?;
        }
        tx.exec("DELETE FROM canary_schema", &[])?;
        tx.exec(
            "INSERT INTO canary_schema (version) VALUES (?1)",
            crate::sql::args![known.max(found)],
        )?;
        tx.commit()
    }

    /// Begin a write transaction holding the row lock of `write_stamps`: another process's
    /// write is waited for up to the wait limit, with a note after a second.
    pub(crate) fn begin_postgres(&self) -> Result<Tx<'_>, StoreError> {
        let start = std::time::Instant::now();
        let first = std::time::Duration::from_secs(1).min(self.wait.limit);
        match self.try_lock(first)? {
            Some(tx) => return Ok(tx),
            None => {
                if let Some(note) = self.wait.note {
                    note(&self.place, start.elapsed());
                }
            }
        }
        match self.try_lock(self.wait.limit.saturating_sub(start.elapsed()))? {
            Some(tx) => Ok(tx),
            None => Err(StoreError::Busy {
                path: self.place.clone(),
                waited_s: start.elapsed().as_secs_f64(),
            }),
        }
    }

    /// The write lock within `wait`, or `None` when another writer held it all that time.
    fn try_lock(&self, wait: std::time::Duration) -> Result<Option<Tx<'_>>, StoreError> {
        let db = &self.db;
        // `lock_timeout` 0 would mean no limit. Both in one round trip.
        let ms = wait.as_millis().clamp(1, u128::from(u32::MAX));
        if let Err(e) = db.batch(&format!("BEGIN; SET LOCAL lock_timeout = {ms}")) {
            let _ = db.batch("ROLLBACK");
            return Err(e);
        }
        let tx = Tx::begun(db);
        match tx.exec("SELECT last FROM write_stamps FOR UPDATE", &[]) {
            Ok(_) => Ok(Some(tx)),
            Err(StoreError::Sql(e)) if is_lock_timeout(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Whether an error is PostgreSQL's "lock not available" (SQLSTATE 55P03).
fn is_lock_timeout(e: &BackendError) -> bool {
    e.postgres_code() == Some("55P03")
}
