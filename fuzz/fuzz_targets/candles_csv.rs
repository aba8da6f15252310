//! Any bytes as a candle CSV file: the reader returns bars or an error naming a line, and
//! never panics. With a range check as the CLI uses it, and a fixed timeframe on odd inputs.
#![no_main]

use canary_ingest::csv::{ImportOptions, TimeRange, read_candles_from};
use canary_ingest::lines::CrlfAsLf;
use canary_model::{Timeframe, Timestamp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let origin = std::path::Path::new("fuzz.csv");
    let mut opts = ImportOptions {
        range: TimeRange::until(Timestamp::from_millis(1_800_000_000_000)),
        ..ImportOptions::default()
    };
    if data.first().is_some_and(|b| b % 3 == 0) {
        opts.timeframe = Some(Timeframe::H4);
    }
    if let Ok(parsed) = read_candles_from(CrlfAsLf::new(data), origin, &opts) {
        // What is returned holds: sorted, aligned, valid bars.
        for w in parsed.rows.windows(2) {
            assert!(w[0].candle.open_time < w[1].candle.open_time);
        }
        for r in &parsed.rows {
            assert!(parsed.timeframe.is_aligned(r.candle.open_time));
            assert!(r.candle.high >= r.candle.low);
        }
    }
});
