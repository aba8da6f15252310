//! Any bytes as a derivatives file, under several names (the importer takes the market, venues
//! and interval from the name) and with or without a kind given: values or an error, never a
//! panic; every value within its kind's bounds, every series' values in time order once each.
#![no_main]

use canary_ingest::csv::TimeRange;
use canary_ingest::derivatives::{DerivOptions, read_derivatives_from};
use canary_ingest::lines::CrlfAsLf;
use canary_model::derivatives::DerivKind;
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 4] = [
    "btcusdt_perp_funding_8h_binance.csv",
    "btc_liquidations_daily_coinglass_binance_okx_bybit.csv",
    "BTCUSDT-liquidationSnapshot-2024-03-01.csv",
    "file.csv",
];

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let opts = DerivOptions {
        kind: (k & 0x80 != 0).then(|| DerivKind::ALL[usize::from(k) % DerivKind::ALL.len()]),
        market: (k & 0x40 != 0).then(|| "BTC".to_string()),
        venues: (k & 0x20 != 0).then(|| "binance".parse().expect("a venue")),
        interval: (k & 0x10 != 0).then(|| "1d".parse().expect("an interval")),
        map: Vec::new(),
        range: TimeRange::default(),
    };
    let origin = std::path::Path::new(NAMES[usize::from(k & 3)]);
    if let Ok(p) = read_derivatives_from(CrlfAsLf::new(rest), origin, &opts) {
        for (series, values) in &p.series {
            for w in values.windows(2) {
                assert!(w[0].1 < w[1].1, "{series}: times in order, once each");
            }
            for &(_, _, v) in values {
                assert!(series.kind.refuse(v).is_none(), "{series}: {v}");
            }
        }
    }
});
