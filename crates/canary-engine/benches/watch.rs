//! The whole Watch as of a time on the real data (`../shared/data/btcusdt_binance_4h.csv`,
//! the daily bars built from it by the context): reading the bars from the store, the levels
//! of 1d and 4h, merging, the trapdoor's profiles, the momentum line and the claims. Target
//! (issue 12): under 50 ms. `docs/levels.md` records the figure and the processor.

use std::path::Path;

use canary_engine::{Context, WatchParams, watch};
use canary_ingest::csv::{ImportOptions, read_candles};
use canary_model::{Symbol, Timestamp};
use canary_store::{NewCandle, Revisions, Source, Store};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/btcusdt_binance_4h.csv");
    assert!(
        file.is_file(),
        "missing shared data file {}",
        file.display()
    );
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut store = Store::open(&dir.path().join("w.db")).expect("a store");
    let parsed = read_candles(&file, &ImportOptions::default()).expect("the 4h file reads");
    let tf = parsed.timeframe;
    let rows: Vec<NewCandle> = parsed
        .rows
        .iter()
        .map(|r| NewCandle {
            candle: r.candle,
            available_at: tf.close_of(r.candle.open_time),
            source_bars: None,
        })
        .collect();
    let sym = Symbol::new("BTCUSDT").expect("a symbol");
    let asof = Timestamp::parse("2026-02-06T05:00:00Z").expect("a time");
    store
        .insert_candles(
            &sym,
            tf,
            Source::real("4h.csv"),
            asof,
            &rows,
            Revisions::Keep,
            |_| {},
        )
        .expect("stored");
    let p = WatchParams::new(sym);
    c.bench_function("watch_btcusdt_1d_4h_asof_2026_02_06", |b| {
        b.iter(|| {
            let ctx = Context::new(&store, asof).expect("a context");
            watch(&ctx, &p).expect("a watch")
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
