//! The store's conformance suite on PostgreSQL, against a real server: the one
//! `CANARY_TEST_POSTGRES` names (`postgres://USER@HOST:PORT`, no database), which `make test`
//! starts on loopback with `scripts/test-postgres.sh`. Each test makes databases of its own,
//! one per named store, and drops them when it ends; two handles on one name are two
//! connections to one database, as two processes would hold.

use std::sync::Mutex;

use canary_store::conformance::Backend;
use canary_store::{SqlStore, Stores};

struct Postgres {
    server: String,
    prefix: String,
    made: Mutex<Vec<String>>,
}

/// The server the tests run on: never skipped, since a suite that passes without its server
/// proves nothing.
fn server() -> String {
    std::env::var("CANARY_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "CANARY_TEST_POSTGRES is not set: run `make test`, which starts a PostgreSQL server \
             on loopback (scripts/test-postgres.sh start) and sets it"
        )
    })
}

impl Postgres {
    fn new() -> Self {
        static BACKENDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = BACKENDS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Postgres {
            server: server(),
            prefix: format!("conformance_{}_{n}", std::process::id()),
            made: Mutex::new(Vec::new()),
        }
    }

    fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&format!("{}/postgres", self.server), postgres::NoTls)
            .unwrap_or_else(|e| panic!("the test server at {} answers: {e}", self.server))
    }
}

impl Backend for Postgres {
    fn open(&self, name: &str) -> Box<dyn Stores> {
        let db = format!("{}_{}", self.prefix, name.to_lowercase());
        let mut made = self.made.lock().expect("not poisoned");
        if !made.contains(&db) {
            // One left by a run that was killed (the process id used again) goes first.
            let mut admin = self.admin();
            for sql in [
                format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
                format!("CREATE DATABASE \"{db}\""),
            ] {
                admin.batch_execute(&sql).expect("a database is made");
            }
            made.push(db.clone());
        }
        Box::new(SqlStore::connect(&format!("{}/{db}", self.server)).expect("the store connects"))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let made = self.made.lock().map(|m| m.clone()).unwrap_or_default();
        if made.is_empty() {
            return;
        }
        let mut admin = self.admin();
        for db in made {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"));
        }
    }
}

canary_store::conformance_suite!(Postgres::new());

/// The address of the database `name` of a backend (made by opening it).
fn made(pg: &Postgres, name: &str) -> String {
    drop(pg.open(name));
    format!("{}/{}_{name}", pg.server, pg.prefix)
}

static NOTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn note(_: &std::path::Path, _: std::time::Duration) {
    NOTED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Another process holding the write lock is waited for up to the limit, with a note after a
/// second; then the write gives up and writes nothing, while reads go on.
#[test]
fn a_writer_waits_for_another_then_gives_up_writing_nothing() {
    use canary_store::prelude::*;
    let pg = Postgres::new();
    let url = made(&pg, "wait");
    let mut holder = postgres::Client::connect(&url, postgres::NoTls).expect("connects");
    let mut held = holder.transaction().expect("a transaction");
    held.execute("SELECT last FROM write_stamps FOR UPDATE", &[])
        .expect("the lock");
    let mut store = SqlStore::connect(&url).expect("connects");
    store.set_write_wait(canary_store::WriteWait {
        limit: std::time::Duration::from_millis(1500),
        note: Some(note),
    });
    let outflow = canary_store::StoredOutflow {
        entity: "M".into(),
        txid: "t".into(),
        destination: "exchange".into(),
        btc: 1.0,
        time: canary_model::Timestamp::from_millis(0),
    };
    let write = |s: &mut SqlStore| {
        s.insert_outflows(
            std::slice::from_ref(&outflow),
            canary_store::Source::real("s"),
            canary_model::Timestamp::from_millis(0),
        )
    };
    let start = std::time::Instant::now();
    let e = write(&mut store).unwrap_err();
    assert!(matches!(e, canary_store::StoreError::Busy { .. }), "{e}");
    assert!(start.elapsed() >= std::time::Duration::from_millis(1400));
    assert!(
        NOTED.load(std::sync::atomic::Ordering::SeqCst),
        "a note after a second"
    );
    assert!(
        e.to_string().contains(&format!("{}_wait", pg.prefix)),
        "names the database: {e}"
    );
    assert!(store.flow_entities().unwrap().is_empty(), "reads go on");
    held.rollback().expect("released");
    assert_eq!(
        write(&mut store).unwrap().inserted,
        1,
        "then the write lands"
    );
}

/// A database whose schema a newer Canary wrote is refused, not written over.
#[test]
fn a_schema_newer_than_this_build_is_refused() {
    let pg = Postgres::new();
    let url = made(&pg, "newer");
    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connects");
    c.batch_execute("UPDATE canary_schema SET version = 99")
        .expect("updated");
    let e = SqlStore::connect(&url).unwrap_err();
    assert!(
        matches!(e, canary_store::StoreError::TooNew { found: 99, .. }),
        "{e}"
    );
}

/// A connection the server closes between transactions (a restart, an administrator) is
/// opened again for the next statement: a long-running `canary serve` outlives it.
#[test]
fn a_connection_the_server_closed_is_opened_again() {
    use canary_store::prelude::*;
    let pg = Postgres::new();
    let url = made(&pg, "closed");
    let mut store = SqlStore::connect(&url).expect("connects");
    store
        .add_token("t", "h", "read", canary_model::Timestamp::from_millis(1))
        .expect("a write");
    let ended: i64 = pg
        .admin()
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
            &[&format!("{}_closed", pg.prefix)],
        )
        .expect("terminated")
        .get(0);
    assert!(ended >= 1, "the store's connection was ended");
    assert_eq!(store.tokens().expect("a read after").len(), 1);
    store
        .add_token("u", "i", "read", canary_model::Timestamp::from_millis(2))
        .expect("a write after");
    assert_eq!(store.tokens().unwrap().len(), 2);
}
