//! The liquidation map as of a time over five years of 4 h bars (10,950 bars of open interest
//! and prices), and a cascade scenario on it. Targets (issue 21): the map under 100 ms, a
//! cascade under 10 ms; `bench/README.md` records the figures and the processor.
//!
//! Prices from the simulator (calm scenario, seed of `SimParams::benchmark`); open interest a
//! deterministic random walk around $20B in coins (SplitMix64, seed 21), so every bar opens or
//! closes positions.

use canary_analytics::liqmap::{CascadeParams, LiquidationMap, MapBar, MapParams, cascade};
use canary_analytics::score::validate::SplitMix;
use canary_model::Timeframe;
use canary_sim::{SimParams, simulate};
use criterion::{Criterion, criterion_group, criterion_main};

fn bars() -> Vec<MapBar> {
    let mut p = SimParams::benchmark(5 * 365 * 6);
    p.timeframe = Timeframe::H4;
    let candles = simulate(&p);
    let mut rng = SplitMix::new(21);
    let mut coins = 20e9 / candles[0].close;
    candles
        .iter()
        .map(|c| {
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            coins *= 1.0 + (u - 0.5) * 0.02;
            MapBar {
                close_ms: Timeframe::H4.close_of(c.open_time).millis(),
                oi_usd: coins * c.close,
                high: c.high,
                low: c.low,
                close: c.close,
            }
        })
        .collect()
}

fn build(bars: &[MapBar]) -> LiquidationMap {
    let mut m = LiquidationMap::new(MapParams::reference());
    for b in bars {
        m.step(b);
    }
    m
}

fn bench(c: &mut Criterion) {
    let bars = bars();
    let mut g = c.benchmark_group("liqmap");
    g.bench_function("map_5y_4h_and_its_buckets", |b| {
        b.iter(|| {
            let m = build(&bars);
            (m.longs().len(), m.shorts().len())
        });
    });
    let m = build(&bars);
    let longs = m.longs();
    let p0 = bars.last().expect("bars").close;
    let params = CascadeParams {
        depth_1pct_usd: 0.4e9,
        absorption: 0.0,
        epsilon_usd: 1e7,
        max_rounds: 100,
    };
    g.bench_function("cascade_10pct_stressed_book", |b| {
        b.iter(|| cascade(&longs, p0, 0.10, &params));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
