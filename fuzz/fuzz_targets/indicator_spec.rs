//! Any text as an `--ind` list: specs or an error; every spec that parses computes on a short
//! series without panicking, and gives one output per bar in each of its columns.
#![no_main]

use canary_analytics::ta::{IndicatorSpec, Ohlcv};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(specs) = IndicatorSpec::parse_list(text) else {
        return;
    };
    let n = 60;
    let close: Vec<f64> = (0..n)
        .map(|i| 100.0 + (i as f64 * 0.7).sin() * 5.0)
        .collect();
    let d = Ohlcv {
        open: close.clone(),
        high: close.iter().map(|c| c + 1.0).collect(),
        low: close.iter().map(|c| c - 1.0).collect(),
        close: close.clone(),
        volume: vec![10.0; n],
    };
    for s in specs.iter().take(8) {
        if let Ok(cols) = s.compute(&d, 2190.0) {
            assert_eq!(cols.len(), s.columns().len());
            for c in cols {
                assert_eq!(c.len(), n);
            }
        }
    }
});
