//! Times every indicator of the benchmark set on a 10M-bar simulated series and writes the
//! series to a file, so that `bench/talib.sh` can time TA-Lib on exactly the same input.
//!
//! Usage: `bench_vs_talib SERIES_FILE [BARS]`. Prints `name<TAB>ns per element` (the best of
//! several runs). The file holds a little-endian u64 bar count, then high, low, close and
//! volume as little-endian f64 arrays.

use std::io::Write;
use std::time::Instant;

use canary_analytics::ta::Ohlcv;
use canary_analytics::ta::bench_set::{BENCH_SET, Scratch};
use canary_sim::{SimParams, simulate};

const RUNS: usize = 7;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: bench_vs_talib SERIES_FILE [BARS]");
    let bars: usize = args
        .next()
        .map_or(10_000_000, |b| b.parse().expect("BARS is a whole number"));
    let candles = simulate(&SimParams::benchmark(bars));
    let d = Ohlcv::from_candles(&candles);
    drop(candles);
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(&path).expect("cannot create the series file"),
    );
    f.write_all(&(bars as u64).to_le_bytes()).unwrap();
    for col in [&d.high, &d.low, &d.close, &d.volume] {
        for x in col.iter() {
            f.write_all(&x.to_le_bytes()).unwrap();
        }
    }
    f.flush().unwrap();

    let mut scratch = Scratch::new(bars);
    for (name, run) in BENCH_SET {
        let mut best = f64::INFINITY;
        for _ in 0..RUNS {
            let t = Instant::now();
            run(&d, &mut scratch).expect("valid parameters");
            best = best.min(t.elapsed().as_secs_f64());
        }
        #[allow(clippy::cast_precision_loss)]
        let ns = best * 1e9 / bars as f64;
        println!("{name}\t{ns:.4}");
    }
}
