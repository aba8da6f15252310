//! The real data the server's in-process tests run on: the Binance 4h bars and the headlines
//! of 2026-02-05 from `../shared/data` (a missing file fails the test, naming it).

use std::path::{Path, PathBuf};

use canary_model::{Symbol, Timestamp};
use canary_store::{Source, Stores};

/// The crash morning every test asks about.
pub const ASOF: &str = "2026-02-06T05:00:00Z";

/// A file of `../shared/data`.
pub fn shared(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(name);
    assert!(p.is_file(), "missing shared data file {}", p.display());
    p
}

/// A store at `db` with the real 4h bars closed by `until` and the headlines known on the
/// crash morning.
pub fn crash_store(db: &Path, until: Timestamp) -> Box<dyn Stores> {
    let mut store = canary_store::open(db).unwrap();
    let sym = Symbol::new("BTCUSDT").unwrap();
    canary_engine::store_bar_file(&mut *store, &shared("btcusdt_binance_4h.csv"), &sym, until)
        .unwrap();
    let asof = Timestamp::parse(ASOF).unwrap();
    let items = canary_ingest::news::read_headlines(
        &shared("news_2026-02-05_sources.csv"),
        asof,
        &canary_ingest::csv::TimeRange::until(asof),
    )
    .unwrap();
    store
        .insert_news(&items, Source::real("news.csv"), asof)
        .unwrap();
    store
}
