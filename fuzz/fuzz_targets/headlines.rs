//! Any bytes as a headline file, CSV or JSON (by the first byte): items or an error naming
//! the file, never a panic; every item has a title and a non-empty id, and none is
//! available after the time it was read.
#![no_main]

use canary_ingest::csv::TimeRange;
use canary_ingest::news::{read_headlines_csv, read_headlines_json};
use canary_model::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let now = Timestamp::from_millis(1_770_354_000_000);
    let range = TimeRange::until(now);
    let r = if k % 2 == 0 {
        read_headlines_csv(rest, std::path::Path::new("fuzz.csv"), now, &range)
    } else {
        read_headlines_json(rest, std::path::Path::new("fuzz.json"), now, &range)
    };
    match r {
        Ok(items) => {
            for i in &items {
                assert!(!i.title.is_empty() && !i.id.is_empty());
                assert!(i.available_at <= now);
            }
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.")),
    }
});
