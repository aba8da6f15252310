//! Any text as a company-facts file (`miners.toml`): profiles or an error naming the key, and
//! every parsed company can be read as of any time and evaluated without panicking.
#![no_main]

use canary_engine::facts::Profiles;
use canary_model::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = Profiles::parse(text, "fuzz.toml") {
        for (ticker, profile) in &p.companies {
            for t in [0, 1_700_000_000_000, i64::MAX / 4] {
                let c = profile.as_of(ticker, Timestamp::from_millis(t));
                let co = c.company();
                let _ = co.coverage_price_net();
                let _ = co.runway_months(60_000.0, 0.1, None);
                let _ = co.forced_selling(60_000.0, None);
            }
        }
    }
});
