//! Any bytes as a feed body (RSS, Atom, JSON Feed): items or "not a feed", never a panic;
//! every item has a title and is not available after the time it was fetched.
#![no_main]

use canary_ingest::news::items_from;
use canary_model::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = Timestamp::from_millis(1_770_354_000_000);
    if let Ok(items) = items_from(data, "https://feed.example/rss", now) {
        for i in &items {
            assert!(!i.title.is_empty());
            assert!(i.available_at <= now);
        }
    }
});
