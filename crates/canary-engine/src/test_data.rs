//! The real data the engine's unit tests read: the Binance 4h bars and the headlines of the
//! 2026-02-05 crash from `../shared/data` (a missing file fails the test, naming it), stored
//! in memory as they were known on the crash morning.

use std::path::{Path, PathBuf};

use canary_model::{Symbol, Timestamp};
use canary_store::{Source, Stores};

/// The crash morning the tests ask about.
pub const ASOF: &str = "2026-02-06T05:00:00Z";

/// The crash morning as a time.
pub fn asof() -> Timestamp {
    Timestamp::parse(ASOF).unwrap()
}

/// A file of `../shared/data`.
pub fn shared(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(name);
    assert!(p.is_file(), "missing shared data file {}", p.display());
    p
}

/// The market of the shared bars.
pub fn btcusdt() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

/// A store in memory with the real 4h bars closed by the crash morning and the headlines
/// known then.
pub fn crash_store() -> Box<dyn Stores> {
    let mut store = canary_store::in_memory().unwrap();
    let asof = asof();
    crate::store_bar_file(
        &mut *store,
        &shared("btcusdt_binance_4h.csv"),
        &btcusdt(),
        asof,
    )
    .unwrap();
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

/// The shared funding, all-venue daily open interest and Binance's daily liquidations, stored
/// as imported late in 2026 (every value known from its own time).
pub fn store_derivatives(store: &mut dyn Stores) {
    let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
    let opts = canary_ingest::derivatives::DerivOptions {
        range: canary_ingest::csv::TimeRange::until(now),
        ..canary_ingest::derivatives::DerivOptions::default()
    };
    for name in [
        "btcusdt_perp_funding_8h_binance_2019-09_2026-04.csv",
        "btc_open_interest_daily_coinglass_all_exchanges_2020-02_2025-11.csv",
        "btc_liquidations_daily_coinglass_binance_2020-12_2025-11.csv",
    ] {
        crate::jobs::derivatives::DerivativesFile::read(&shared(name), &opts)
            .unwrap()
            .store(store, None, canary_store::Revisions::Keep, now)
            .unwrap();
    }
}

/// The shared equities, index closes and Fear & Greed Index, imported late in 2026 (every
/// day known at its exchange's close).
pub fn store_markets(store: &mut dyn Stores) {
    let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
    let opts = canary_ingest::markets::MarketOptions {
        range: canary_ingest::csv::TimeRange::until(now),
        ..canary_ingest::markets::MarketOptions::default()
    };
    for name in [
        "equities_daily_ohlcv_yahoo_2018-01_2026-05.csv",
        "us_indices_daily_fred_nasdaq100_sp500_2018-01_2026-08.csv",
        "fear_greed_index_daily_alternative_me_2018-02_2026-02.csv",
    ] {
        crate::jobs::markets::MarketsFile::read(&shared(name), &opts)
            .unwrap()
            .store(store, None, canary_store::Revisions::Keep, now)
            .unwrap();
    }
}

/// The shared daily hash rate (TH/s) and difficulty to February 2026.
pub fn store_network_2026(store: &mut dyn Stores) {
    let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
    for kind in [
        canary_ingest::network::NetworkKind::Hashrate,
        canary_ingest::network::NetworkKind::Difficulty,
    ] {
        crate::jobs::network::NetworkFile::read(
            &shared("btc_network_daily_hashrate_difficulty_2018-01_2026-02.csv"),
            kind,
            &[],
            &canary_ingest::csv::TimeRange::until(now),
        )
        .unwrap()
        .store(store, None, canary_store::Revisions::Keep, now)
        .unwrap();
    }
}
