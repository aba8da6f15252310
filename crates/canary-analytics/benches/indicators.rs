//! criterion benchmarks: every indicator and the fused watch set on a 10M-bar simulated series
//! (the same calls `bench/talib.sh` times against TA-Lib). `CANARY_BENCH_BARS` overrides the
//! length for a quick run.

use std::time::Duration;

use canary_analytics::ta::Ohlcv;
use canary_analytics::ta::bench_set::{BENCH_SET, Scratch};
use canary_sim::{SimParams, simulate};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn series() -> Ohlcv {
    let bars = std::env::var("CANARY_BENCH_BARS")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(10_000_000);
    Ohlcv::from_candles(&simulate(&SimParams::benchmark(bars)))
}

fn indicators(c: &mut Criterion) {
    let d = series();
    let mut scratch = Scratch::new(d.len());
    let mut g = c.benchmark_group("indicators");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(d.len() as u64));
    for (name, run) in BENCH_SET {
        g.bench_function(*name, |b| {
            b.iter(|| run(&d, &mut scratch).expect("valid parameters"));
        });
    }
    g.finish();
}

criterion_group!(benches, indicators);
criterion_main!(benches);
