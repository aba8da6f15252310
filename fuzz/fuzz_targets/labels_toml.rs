//! Any text as an entity label file: labels or an error naming the entity, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = canary_engine::labels::parse(text, "fuzz.toml");
    }
});
