//! Any bytes as a market file (equities, indices, Fear & Greed), under a ticker's name or not,
//! with or without a ticker given: values or an error, never a panic; every value within its
//! field's bounds, every series' days in order once each, every day its market's (no weekend
//! or holiday for a US series), each day's open and close within its low and high.
#![no_main]

use canary_ingest::csv::TimeRange;
use canary_ingest::lines::CrlfAsLf;
use canary_ingest::markets::{MarketOptions, read_markets_from};
use canary_model::markets::{Field, Market, us_trading_day};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 2] = ["MARA.csv", "equities.csv"];

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let opts = MarketOptions {
        ticker: (k & 0x80 != 0).then(|| "RIOT".parse().expect("a ticker")),
        range: TimeRange::default(),
    };
    let origin = std::path::Path::new(NAMES[usize::from(k & 1)]);
    if let Ok(p) = read_markets_from(CrlfAsLf::new(rest), origin, &opts) {
        for (series, values) in &p.series {
            for w in values.windows(2) {
                assert!(w[0].1 < w[1].1, "{series}: days in order, once each");
            }
            for &(_, day, v) in values {
                assert!(series.field.refuse(v).is_none(), "{series}: {v}");
                let (y, m, d, ..) = day.to_civil();
                if series.market == Market::Us {
                    assert!(us_trading_day(y, m, d), "{series}: {day} is no trading day");
                }
                assert!(series.available_at(day).is_ok(), "{series}: {day}");
            }
        }
        // Open and close within the day's range, where the file gives them.
        let get = |t: &str, f: Field, day| {
            p.series
                .iter()
                .find(|(s, _)| s.ticker.as_str() == t && s.field == f)
                .and_then(|(_, v)| v.iter().find(|x| x.1 == day).map(|x| x.2))
        };
        for (s, values) in p.series.iter().filter(|(s, _)| s.field == Field::Close) {
            for &(_, day, close) in values {
                let t = s.ticker.as_str();
                if let (Some(lo), Some(hi)) = (get(t, Field::Low, day), get(t, Field::High, day)) {
                    assert!(lo <= close && close <= hi, "{s}: {day}");
                }
            }
        }
    }
});
