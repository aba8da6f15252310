//! [`Symbol`]: an instrument name such as `BTCUSDT`, optionally qualified by its venue
//! (`BINANCE:BTCUSDT`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instrument. Stored upper-case; letters, digits, `-`, `_`, `.` and `/`, with an optional
/// `VENUE:` prefix.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Symbol(String);

/// Why a text is not a symbol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid symbol {text}: {reason}")]
pub struct SymbolError {
    text: String,
    reason: &'static str,
}

impl Symbol {
    /// Validate and normalise (upper-case) a symbol.
    ///
    /// # Errors
    /// When it is empty, longer than 64 characters or holds other characters than the above.
    pub fn new(text: &str) -> Result<Self, SymbolError> {
        let err = |reason| SymbolError {
            text: crate::excerpt::quoted(text),
            reason,
        };
        let t = text.trim();
        if t.is_empty() {
            return Err(err("empty"));
        }
        if t.len() > 64 {
            return Err(err("longer than 64 characters"));
        }
        let (venue, name) = match t.split_once(':') {
            Some((v, n)) => (Some(v), n),
            None => (None, t),
        };
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        };
        if !ok(name) || venue.is_some_and(|v| !ok(v)) {
            return Err(err(
                "use letters, digits, '-', '_', '.', '/' and an optional VENUE: prefix",
            ));
        }
        Ok(Symbol(t.to_ascii_uppercase()))
    }

    /// The symbol as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The venue prefix, if any (`BINANCE` of `BINANCE:BTCUSDT`).
    #[must_use]
    pub fn venue(&self) -> Option<&str> {
        self.0.split_once(':').map(|(v, _)| v)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Symbol {
    type Err = SymbolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Symbol::new(s)
    }
}

impl Serialize for Symbol {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Symbol {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Symbol::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_validates() {
        assert_eq!(Symbol::new("btcusdt").unwrap().as_str(), "BTCUSDT");
        let s = Symbol::new("binance:BTCUSDT").unwrap();
        assert_eq!(s.venue(), Some("BINANCE"));
        for bad in ["", "BTC USDT", ":BTC", "BTC:", "a;b"] {
            assert!(Symbol::new(bad).is_err(), "{bad}");
        }
    }
}
