//! The indicators equal TA-Lib 0.8.2: every series of `../shared/oracle` on the daily and 4h
//! Binance files, at relative 1e-9 (absolute 1e-9 near zero), lookback prefix included.
//! Also the fused watch set against the same oracle columns.
//!
//! These tests read `../shared`; they fail, naming the file, when it is missing.

use std::path::PathBuf;

use canary_analytics::ta::{IndicatorSpec, Ohlcv, WatchSetBuffers, watch_set};

fn shared(rel: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel);
    assert!(
        p.exists(),
        "missing shared data file {} (the repository expects ../shared beside it)",
        p.display()
    );
    p
}

fn read_csv(rel: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let path = shared(rel);
    let mut r = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], rows: &[Vec<String>], name: &str) -> Vec<f64> {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    rows.iter()
        .map(|r| {
            if r[i].is_empty() {
                f64::NAN
            } else {
                r[i].parse().unwrap()
            }
        })
        .collect()
}

fn input(rel: &str) -> Ohlcv {
    let (h, rows) = read_csv(rel);
    Ohlcv {
        open: column(&h, &rows, "open"),
        high: column(&h, &rows, "high"),
        low: column(&h, &rows, "low"),
        close: column(&h, &rows, "close"),
        volume: column(&h, &rows, "volume_btc"),
    }
}

/// Compare one computed series with the oracle's; the message names the first mismatch.
fn compare(name: &str, ours: &[f64], want: &[f64]) -> Result<(), String> {
    if ours.len() != want.len() {
        return Err(format!(
            "{name}: {} values, oracle has {}",
            ours.len(),
            want.len()
        ));
    }
    for (i, (&a, &b)) in ours.iter().zip(want).enumerate() {
        let ok = if b.is_nan() {
            a.is_nan()
        } else {
            (a - b).abs() <= 1e-9 * b.abs().max(1.0)
        };
        if !ok {
            return Err(format!("{name}[{i}]: ours {a}, TA-Lib {b}"));
        }
    }
    Ok(())
}

fn check_file(data: &str, oracle: &str, bars_per_year: f64) {
    let d = input(data);
    let (oh, orows) = read_csv(oracle);
    assert_eq!(orows.len(), d.len(), "{oracle} and {data} differ in length");
    let mut failures = vec![];
    let mut checked = 0;
    for spec in IndicatorSpec::oracle_set() {
        for (name, ours) in spec
            .columns()
            .into_iter()
            .zip(spec.compute(&d, bars_per_year).unwrap())
        {
            checked += 1;
            if let Err(e) = compare(&name, &ours, &column(&oh, &orows, &name)) {
                failures.push(e);
            }
        }
    }
    assert_eq!(checked, 31, "the oracle has 31 series");
    assert!(
        failures.is_empty(),
        "{oracle}: {} series differ:\n{}",
        failures.len(),
        failures.join("\n")
    );

    let mut w = WatchSetBuffers::with_len(d.len());
    watch_set(&d.high, &d.low, &d.close, bars_per_year, &mut w).unwrap();
    for (name, ours) in w.columns() {
        if oh.iter().any(|h| h == name) {
            compare(name, ours, &column(&oh, &orows, name)).unwrap();
        }
    }
}

#[test]
fn oracle_daily() {
    check_file(
        "data/btcusdt_binance_1d.csv",
        "oracle/talib_btcusdt_binance_1d.csv",
        365.0,
    );
}

#[test]
fn oracle_4h() {
    check_file(
        "data/btcusdt_binance_4h.csv",
        "oracle/talib_btcusdt_binance_4h.csv",
        2190.0,
    );
}
