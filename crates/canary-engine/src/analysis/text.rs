//! Numbers in prose, grounded: every number the composer writes goes through a [`Writer`],
//! which formats it by the rules in one place and records the claim it comes from. After
//! rendering, [`check_grounding`] finds every numeral in the text and refuses the text if one
//! is not a recorded number (or part of a named term such as "RSI 14").

use canary_model::{ClaimId, Timestamp};
use serde::Serialize;

/// A number as written, and its claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grounded {
    pub text: String,
    pub claim: ClaimId,
}

/// Names with digits that are not data: indicator names, windows, scales.
pub const TERMS: &[&str] = &[
    "RSI 14",
    "EMA 50",
    "24 h",
    "24-hour",
    "7-day",
    "30-day",
    "90-day",
    "1d",
    "4h",
    "of 5",
    "0-100",
    "10%",
    "7 days",
    "of 100",
    "30 sessions",
    "90 sessions",
    "the 30 before",
    "within 30 days",
    "Nasdaq-100",
    "S&P 500",
    "60-day mean",
];

/// Writes numbers and remembers their claims.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    pub numbers: Vec<Grounded>,
}

fn thousands(x: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, x.abs());
    let (int, frac) = s
        .split_once('.')
        .map_or((s.as_str(), None), |(a, b)| (a, Some(b)));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    if x < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.insert(0, '-');
    }
    out
}

impl Writer {
    fn keep(&mut self, text: String, claim: &ClaimId) -> String {
        self.numbers.push(Grounded {
            text: text.clone(),
            claim: claim.clone(),
        });
        text
    }

    /// `$64,168` (whole dollars from 1,000 up, cents below).
    pub fn usd(&mut self, v: f64, claim: &ClaimId) -> String {
        let t = if v.abs() >= 1000.0 {
            format!("${}", thousands(v, 0))
        } else {
            format!("${}", thousands(v, 2))
        };
        self.keep(t, claim)
    }

    /// A large amount in words: `$141.0 billion`, `$2.3 trillion`, `$850.2 million`.
    pub fn usd_big(&mut self, v: f64, claim: &ClaimId) -> String {
        let (x, word) = if v.abs() >= 1e12 {
            (v / 1e12, "trillion")
        } else if v.abs() >= 1e9 {
            (v / 1e9, "billion")
        } else if v.abs() >= 1e6 {
            (v / 1e6, "million")
        } else {
            return self.usd(v, claim);
        };
        self.keep(format!("${} {word}", thousands(x, 1)), claim)
    }

    /// `-9.2%`, or `+9.2%` with `signed`.
    pub fn pct(&mut self, v: f64, claim: &ClaimId, signed: bool) -> String {
        let t = if signed && v > 0.0 {
            format!("+{}%", thousands(v, 1))
        } else {
            format!("{}%", thousands(v, 1))
        };
        self.keep(t, claim)
    }

    /// A fraction as a whole percentage: 0.673 → `67%`.
    pub fn share(&mut self, v: f64, claim: &ClaimId) -> String {
        self.keep(format!("{}%", thousands(v * 100.0, 0)), claim)
    }

    /// A plain number with `decimals`.
    pub fn num(&mut self, v: f64, decimals: usize, claim: &ClaimId) -> String {
        self.keep(thousands(v, decimals), claim)
    }

    /// A whole number as an ordinal: `91st`, `2nd`, `13th`.
    pub fn ordinal(&mut self, v: f64, claim: &ClaimId) -> String {
        #[expect(clippy::cast_possible_truncation)]
        let n = v.round() as i64;
        let suffix = match (n.rem_euclid(10), n.rem_euclid(100)) {
            (_, 11..=13) => "th",
            (1, _) => "st",
            (2, _) => "nd",
            (3, _) => "rd",
            _ => "th",
        };
        self.keep(format!("{n}{suffix}"), claim)
    }

    /// `-4.3σ`.
    pub fn sigma(&mut self, v: f64, claim: &ClaimId) -> String {
        self.keep(format!("{}σ", thousands(v, 1)), claim)
    }

    /// A date, `2026-02-05`.
    pub fn date(&mut self, t: Timestamp, claim: &ClaimId) -> String {
        self.keep(t.to_string()[..10].to_string(), claim)
    }

    /// A time, `2026-02-06 05:00 UTC`.
    pub fn time(&mut self, t: Timestamp, claim: &ClaimId) -> String {
        let s = t.to_string();
        self.keep(format!("{} {} UTC", &s[..10], &s[11..16]), claim)
    }
}

/// Replace whole occurrences of `needle` (not inside a longer number or word) by `with`.
#[must_use]
pub fn replace_whole(text: &str, needle: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(k) = text[i..].find(needle) {
        let at = i + k;
        let end = at + needle.len();
        let prev = text[..at].chars().last();
        let mut after = text[end..].chars();
        let (next, next2) = (after.next(), after.next());
        let glued_before = prev.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == ',');
        let glued_after = next.is_some_and(|c| c.is_ascii_alphanumeric())
            || (matches!(next, Some('.' | ',')) && next2.is_some_and(|c| c.is_ascii_digit()));
        out.push_str(&text[i..at]);
        out.push_str(if glued_before || glued_after {
            needle
        } else {
            with
        });
        i = end;
    }
    out.push_str(&text[i..]);
    out
}

/// The numerals of a text: runs of digits with `,` or `.` between digits.
fn numerals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let inner = (c == ',' || c == '.')
            && !cur.is_empty()
            && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if c.is_ascii_digit() || inner {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A numeral in rendered text that no claim accounts for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the text shows {numeral:?} near {context:?}, which no claim of the analysis accounts for")]
pub struct Ungrounded {
    pub numeral: String,
    pub context: String,
}

/// Check that every numeral of `text` is one of the recorded numbers' (or of a term).
///
/// # Errors
/// The first numeral that is not.
pub fn check_grounding(
    text: &str,
    numbers: &[Grounded],
    extra_terms: &[&str],
) -> Result<(), Ungrounded> {
    // Remove the recorded texts and the terms: no numeral may remain.
    let mut rest = text.to_string();
    let mut pieces: Vec<&str> = numbers.iter().map(|g| g.text.as_str()).collect();
    pieces.extend(TERMS);
    pieces.extend(extra_terms);
    pieces.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in pieces {
        if !p.is_empty() {
            // The same number of characters, so that positions still match the text.
            rest = replace_whole(&rest, p, &"#".repeat(p.chars().count()));
        }
    }
    if let Some(n) = numerals(&rest).into_iter().next() {
        let at = rest[..rest.find(&n).unwrap_or(0)].chars().count();
        let context: String = text.chars().skip(at.saturating_sub(40)).take(80).collect();
        return Err(Ungrounded {
            numeral: n,
            context,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> ClaimId {
        let t = Timestamp::from_millis(0);
        canary_model::Claim::data("x", 1.0, "u", t, "s", "src", t).id
    }

    #[test]
    fn formats_are_fixed() {
        let mut w = Writer::default();
        let c = id();
        assert_eq!(w.usd(64_168.33, &c), "$64,168");
        assert_eq!(w.usd(8.5, &c), "$8.50");
        assert_eq!(w.pct(-9.24, &c, true), "-9.2%");
        assert_eq!(w.pct(3.0, &c, true), "+3.0%");
        assert_eq!(w.share(0.673, &c), "67%");
        assert_eq!(w.sigma(-4.26, &c), "-4.3σ");
        assert_eq!(w.num(1_450.0, 0, &c), "1,450");
        assert_eq!(w.numbers.len(), 7);
    }

    #[test]
    fn grounding_refuses_a_stray_number() {
        let mut w = Writer::default();
        let c = id();
        let p = w.usd(64_168.0, &c);
        assert!(check_grounding(&format!("Price {p}, RSI 14 oversold."), &w.numbers, &[]).is_ok());
        let e =
            check_grounding(&format!("Price {p}, down 12% today."), &w.numbers, &[]).unwrap_err();
        assert_eq!(e.numeral, "12");
    }
}
