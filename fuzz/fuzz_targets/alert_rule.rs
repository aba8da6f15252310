//! Any text as an alert rule (what `POST /api/v1/alerts/rules` takes from anyone): a rule or
//! an error, never a panic or a stack overflow. An error points inside the rule (or just past
//! it) and prints short whatever the rule's size; a rule that parses evaluates over a few
//! closes (values rising, then missing) without panicking.
#![no_main]

use canary_alerts::eval::{Evaluator, Values};
use canary_alerts::rule::{MAX_RULE_CHARS, parse};
use canary_model::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(text) {
        Err(e) => {
            let chars = text.chars().count();
            assert!(e.column >= 1 && e.column <= chars.min(MAX_RULE_CHARS) + 1, "{e:?}");
            assert!(e.rule.chars().count() <= MAX_RULE_CHARS + 1);
            // The message, the quoted excerpt and the caret: a few short lines.
            assert!(e.to_string().chars().count() < 400, "{e}");
        }
        Ok(expr) => {
            assert!(chars_ok(text));
            let mut ev = Evaluator::new(expr.clone());
            for i in 0..4_i64 {
                let v: Values = if i == 3 {
                    Values::new()
                } else {
                    expr.series()
                        .into_iter()
                        .map(|s| (s.clone(), 100.0 + 10.0 * i as f64))
                        .collect()
                };
                ev.evaluate(Timestamp::from_millis(i * 3_600_000), &v);
                let _ = ev.margin(&v);
            }
            let _ = expr.clock_symbol();
        }
    }
});

fn chars_ok(text: &str) -> bool {
    text.chars().count() <= MAX_RULE_CHARS
}
