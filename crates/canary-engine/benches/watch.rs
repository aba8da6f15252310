//! The whole Watch, and the whole analysis, as of a time on the real data (`../shared/data/btcusdt_binance_4h.csv`,
//! the daily bars built from it by the context): reading the bars from the store, the levels
//! of 1d and 4h, merging, the trapdoor's profiles, the momentum line and the claims. Targets:
//! the Watch under 50 ms (issue 12; `docs/levels.md`), the miners' analysis with the shared
//! headlines and the built-in company facts under 100 ms (issue 13; `docs/analysis.md`).

use std::path::Path;

use canary_engine::{Context, WatchParams, watch};
use canary_model::{Symbol, Timestamp};
use canary_store::Source;
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
    let mut store = canary_store::open(&dir.path().join("w.db")).expect("a store");
    let sym = Symbol::new("BTCUSDT").expect("a symbol");
    let asof = Timestamp::parse("2026-02-06T05:00:00Z").expect("a time");
    canary_engine::store_bar_file(&mut *store, &file, &sym, asof).expect("the 4h file stored");
    let p = WatchParams::new(sym.clone());
    c.bench_function("watch_btcusdt_1d_4h_asof_2026_02_06", |b| {
        b.iter(|| {
            let ctx = Context::new(&*store, asof).expect("a context");
            watch(&ctx, &p).expect("a watch")
        });
    });
    let news = file.with_file_name("news_2026-02-05_sources.csv");
    let items = canary_ingest::news::read_headlines(
        &news,
        asof,
        &canary_ingest::csv::TimeRange::until(asof),
    )
    .expect("the shared headlines read");
    store
        .insert_news(&items, Source::real("news.csv"), asof)
        .expect("stored");
    let profiles = canary_engine::facts::Profiles::built_in().expect("the built-in facts");
    let dict = canary_engine::news_dictionary(Some(&profiles), None).expect("a dictionary");
    let lex = canary_news::sentiment::Lexicon::built_in();
    let ap = canary_engine::analysis::AnalyzeParams {
        symbol: sym,
        asset: "BTC".into(),
        topic: canary_engine::analysis::Topic::Miners,
        method: canary_analytics::score::Methodology::built_in(),
        templates: canary_engine::analysis::render::Templates::default(),
    };
    c.bench_function("analyze_miners_btcusdt_asof_2026_02_06", |b| {
        b.iter(|| {
            let ctx = Context::new(&*store, asof)
                .expect("a context")
                .with_profiles(&profiles);
            let r =
                canary_engine::analysis::analyze(&ctx, &ap, &dict, lex, None).expect("an analysis");
            canary_engine::analysis::render::markdown_checked(
                &r.body,
                r.as_of,
                r.simulated,
                &canary_engine::analysis::render::Templates::default(),
            )
            .expect("grounded")
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
