//! Times every indicator of the benchmark set on a 10M-bar simulated series and writes the
//! series to a file, so that `bench/talib.sh` can time TA-Lib on exactly the same input.
//!
//! Usage: `bench_vs_talib SERIES_FILE [BARS]`. Prints `name<TAB>ns per element` (the best of
//! several runs); the fused watch set on each of its paths (`WATCH/avx2+stream`, …) and as
//! the engine runs it (`WATCH`: the calibrated path, or the one `CANARY_SIMD` /
//! `CANARY_STREAM` name, printed third). The file holds a little-endian u64 bar count, then high, low, close and
//! volume as little-endian f64 arrays.

use std::io::Write;
use std::time::Instant;

use canary_analytics::ta::bench_set::{BENCH_SET, Scratch};
use canary_analytics::ta::{
    Ohlcv, STREAM_FROM, WatchPath, WatchSetBuffers, calibrate_stream, calibrate_tier,
    watch_set_with,
};
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
        for x in col {
            f.write_all(&x.to_le_bytes()).unwrap();
        }
    }
    f.flush().unwrap();

    let mut scratch = Scratch::new(bars);
    let per_bar = |secs: f64| secs * 1e9 / bars as f64;
    for (name, run) in BENCH_SET {
        if *name == "WATCH" {
            continue; // timed below, on each path and on the calibrated one
        }
        let mut best = f64::INFINITY;
        for _ in 0..RUNS {
            let t = Instant::now();
            run(&d, &mut scratch).expect("valid parameters");
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("{name}\t{:.4}", per_bar(best));
    }
    // The fused watch set on every path (`CANARY_SIMD` / `CANARY_STREAM` pick one for the
    // WATCH row instead of the calibration, as they do in the engine).
    let mut w = WatchSetBuffers::with_len(bars);
    let mut time_path = |path: WatchPath| {
        let mut best = f64::INFINITY;
        for _ in 0..RUNS {
            let t = Instant::now();
            watch_set_with(&d.high, &d.low, &d.close, 365.0, &mut w, path).expect("lengths");
            best = best.min(t.elapsed().as_secs_f64());
        }
        best
    };
    // Each path as it runs here: one this processor cannot run (avx512 without AVX-512) is
    // the narrower one it runs instead, timed once.
    let mut timed = Vec::new();
    for path in WatchPath::all().map(WatchPath::on_this_processor) {
        if !timed.contains(&path) {
            timed.push(path);
            println!("WATCH/{path}\t{:.4}", per_bar(time_path(path)));
        }
    }
    let env = |k: &str| std::env::var(k).ok();
    let chosen = match (env("CANARY_SIMD"), env("CANARY_STREAM")) {
        (None, None) => {
            let timer = |f: &mut dyn FnMut()| {
                let t = Instant::now();
                f();
                t.elapsed()
            };
            let simd = calibrate_tier(timer);
            WatchPath {
                simd,
                stream: bars >= STREAM_FROM && calibrate_stream(timer, simd),
            }
        }
        (a, b) => {
            WatchPath::parse(a.as_deref(), b.as_deref()).expect("CANARY_SIMD / CANARY_STREAM")
        }
    };
    // Named as it ran: CANARY_SIMD=avx512 on a processor without it runs (and says) avx2.
    let chosen = chosen.on_this_processor();
    println!("WATCH\t{:.4}\t{chosen}", per_bar(time_path(chosen)));
}
