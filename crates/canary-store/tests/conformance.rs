//! The store's conformance suite on the SQLite backend: each named store a file in one
//! temporary folder per test, opened again for a second handle as a second process would.

use canary_store::conformance::Backend;
use canary_store::{SqlStore, Stores};

struct Sqlite(tempfile::TempDir);

impl Sqlite {
    fn new() -> Self {
        Sqlite(tempfile::tempdir().expect("a temporary folder"))
    }
}

impl Backend for Sqlite {
    fn open(&self, name: &str) -> Box<dyn Stores> {
        let path = self.0.path().join(format!("{name}.db"));
        Box::new(SqlStore::open(&path).expect("the store opens"))
    }
}

canary_store::conformance_suite!(Sqlite::new());
