//! Any bytes as a network-series CSV file of each kind: values or an error, never a panic.
#![no_main]

use canary_ingest::csv::TimeRange;
use canary_ingest::lines::CrlfAsLf;
use canary_ingest::network::{NetworkKind, read_network_from};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let kind = match k % 5 {
        0 => NetworkKind::Hashrate,
        1 => NetworkKind::Difficulty,
        2 => NetworkKind::Subsidy,
        3 => NetworkKind::FleetEfficiency,
        _ => NetworkKind::Fees,
    };
    let origin = std::path::Path::new("fuzz.csv");
    if let Ok(p) = read_network_from(
        CrlfAsLf::new(rest),
        origin,
        kind,
        &[],
        &TimeRange::default(),
    ) {
        for (_, values) in &p.series {
            for &(_, _, v) in values {
                assert!(v.is_finite() && v >= 0.0);
            }
        }
    }
});
