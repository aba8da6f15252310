//! Scoring one as-of time after the data is loaded: the daily inputs of 3,000 daily bars
//! (eight years), each component normalised against its 730-day history, Risk and Pulse —
//! what the engine does for `canary score` and for every day of the backtest. Target:
//! under 10 ms (issue 11); `docs/track-record.md` records the figure and the processor.

use canary_analytics::score::inputs::market_inputs;
use canary_analytics::score::{Methodology, Scores, normalise_day, score};
use canary_model::Candle;
use canary_sim::{SimParams, simulate};
use criterion::{Criterion, criterion_group, criterion_main};

fn last_day(m: &Methodology, raw: &[(&'static str, Vec<f64>)], n: usize) -> Scores {
    let series = |k: &str| raw.iter().find(|(x, _)| *x == k).map(|(_, v)| v.as_slice());
    score(m, &normalise_day(m, series, n - 1))
}

fn bench(c: &mut Criterion) {
    let mut p = SimParams::benchmark(3_000);
    p.timeframe = canary_model::Timeframe::D1;
    let bars: Vec<Candle> = simulate(&p);
    let m = Methodology::built_in();
    let mut g = c.benchmark_group("score");
    g.bench_function("one_asof_3000_days", |b| {
        b.iter(|| last_day(&m, &market_inputs(&bars), bars.len()));
    });
    let raw = market_inputs(&bars);
    g.bench_function("normalise_and_score_only", |b| {
        b.iter(|| last_day(&m, &raw, bars.len()));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
