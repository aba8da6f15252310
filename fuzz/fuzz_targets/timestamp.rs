//! Any text as a time: a timestamp or an error; a parsed time prints as text that parses back
//! to the same time.
#![no_main]

use canary_model::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = Timestamp::parse(text) {
        let back = Timestamp::parse(&t.to_string());
        assert_eq!(back, Ok(t), "{text:?} -> {t}");
    }
});
