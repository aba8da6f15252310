//! [`Timeframe`]: the bar durations Canary stores, and how bars align to UTC.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::{DAY_MS, Timestamp};

/// A bar duration. Bars open at multiples of the duration since the epoch (UTC); weekly bars
/// open on Mondays at 00:00 UTC, as Binance's weekly klines do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timeframe {
    M1,
    M5,
    M15,
    H1,
    H4,
    D1,
    W1,
}

/// An unknown timeframe name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeframeError(pub String);

impl fmt::Display for TimeframeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = crate::excerpt::quoted(&self.0);
        if names_months(&self.0) {
            write!(
                f,
                "{name} is not a timeframe: 1m is a minute (a lower-case m) and months are not a timeframe; use one of 1m, 5m, 15m, 1h, 4h, 1d, 1w"
            )
        } else {
            write!(
                f,
                "unknown timeframe {name}: use one of 1m, 5m, 15m, 1h, 4h, 1d, 1w"
            )
        }
    }
}

impl std::error::Error for TimeframeError {}

/// Whether a name reads as months: `1M` (a capital M, as exchanges write a month), `1mo`,
/// `3months`. Never taken for minutes: that is what the case-insensitive reading of names
/// did with `1M`.
fn names_months(s: &str) -> bool {
    let t = s.trim();
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    let unit = &t[digits..];
    (digits > 0 && unit == "M")
        || ["mo", "mon", "month", "months", "mn1"]
            .iter()
            .any(|m| unit.eq_ignore_ascii_case(m))
}

/// 1970-01-01 was a Thursday; the first Monday 00:00 UTC is four days later.
const WEEK_OFFSET_MS: i64 = 4 * DAY_MS;

impl Timeframe {
    /// Every timeframe, shortest first.
    pub const ALL: [Timeframe; 7] = [
        Timeframe::M1,
        Timeframe::M5,
        Timeframe::M15,
        Timeframe::H1,
        Timeframe::H4,
        Timeframe::D1,
        Timeframe::W1,
    ];

    /// The bar's length in milliseconds.
    #[must_use]
    pub const fn duration_ms(self) -> i64 {
        match self {
            Timeframe::M1 => 60_000,
            Timeframe::M5 => 300_000,
            Timeframe::M15 => 900_000,
            Timeframe::H1 => 3_600_000,
            Timeframe::H4 => 14_400_000,
            Timeframe::D1 => DAY_MS,
            Timeframe::W1 => 7 * DAY_MS,
        }
    }

    /// The short name (`4h`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Timeframe::M1 => "1m",
            Timeframe::M5 => "5m",
            Timeframe::M15 => "15m",
            Timeframe::H1 => "1h",
            Timeframe::H4 => "4h",
            Timeframe::D1 => "1d",
            Timeframe::W1 => "1w",
        }
    }

    /// Bars per (365-day) year, the annualisation factor for crypto markets that trade every day.
    #[must_use]
    pub fn bars_per_year(self) -> f64 {
        let per_day = DAY_MS as f64 / self.duration_ms() as f64;
        per_day * 365.0
    }

    fn offset_ms(self) -> i64 {
        if self == Timeframe::W1 {
            WEEK_OFFSET_MS
        } else {
            0
        }
    }

    /// The open time of the bar that contains `t`.
    #[must_use]
    pub fn floor(self, t: Timestamp) -> Timestamp {
        let off = self.offset_ms();
        let d = self.duration_ms();
        Timestamp::from_millis((t.millis() - off).div_euclid(d) * d + off)
    }

    /// The close time of the bar that opened at `open`: the moment it became knowable. Every
    /// "available at" of a bar is computed here.
    #[must_use]
    pub fn close_of(self, open: Timestamp) -> Timestamp {
        open.add_millis(self.duration_ms())
    }

    /// Whether `t` is the open time of a bar of this timeframe.
    #[must_use]
    pub fn is_aligned(self, t: Timestamp) -> bool {
        self.floor(t) == t
    }

    /// The timeframe whose duration is exactly `ms`, if any.
    #[must_use]
    pub fn from_duration_ms(ms: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|tf| tf.duration_ms() == ms)
    }

    /// Whether bars of `self` can be built from whole bars of `lower` (same alignment, a
    /// whole number of them per bar).
    #[must_use]
    pub fn is_multiple_of(self, lower: Timeframe) -> bool {
        lower < self && self.duration_ms() % lower.duration_ms() == 0
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Timeframe {
    type Err = TimeframeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if names_months(s) {
            return Err(TimeframeError(s.to_string()));
        }
        let lower = s.trim().to_ascii_lowercase();
        let name = match lower.as_str() {
            "1min" | "m1" => "1m",
            "5min" | "m5" => "5m",
            "15min" | "m15" => "15m",
            "60m" | "h1" | "hourly" => "1h",
            "240m" | "h4" => "4h",
            "24h" | "d" | "d1" | "daily" => "1d",
            "7d" | "w" | "w1" | "weekly" => "1w",
            other => other,
        };
        Self::ALL
            .into_iter()
            .find(|tf| tf.as_str() == name)
            .ok_or_else(|| TimeframeError(s.to_string()))
    }
}

impl Serialize for Timeframe {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Timeframe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for tf in Timeframe::ALL {
            assert_eq!(tf.as_str().parse::<Timeframe>().unwrap(), tf);
        }
        assert!("2h".parse::<Timeframe>().is_err());
    }

    /// Issue 19, item 11: `1M` (a month on exchanges) read as one minute.
    #[test]
    fn months_are_refused_and_never_read_as_minutes() {
        for name in ["1M", "15M", "1mo", "3Months", "MN1"] {
            let e = name.parse::<Timeframe>().unwrap_err().to_string();
            assert!(
                e.contains("1m is a minute") && e.contains("months"),
                "{name}: {e}"
            );
        }
        for (name, tf) in [
            ("1m", Timeframe::M1),
            ("M1", Timeframe::M1),
            ("15m", Timeframe::M15),
            ("4H", Timeframe::H4),
            ("1D", Timeframe::D1),
            ("Daily", Timeframe::D1),
        ] {
            assert_eq!(name.parse::<Timeframe>(), Ok(tf), "{name}");
        }
    }

    #[test]
    fn a_bar_closes_one_duration_after_it_opens() {
        let open = Timestamp::parse("2026-02-06T04:00:00Z").unwrap();
        assert_eq!(
            Timeframe::H4.close_of(open),
            Timestamp::parse("2026-02-06T08:00:00Z").unwrap()
        );
        let monday = Timestamp::parse("2026-02-02").unwrap();
        assert_eq!(
            Timeframe::W1.close_of(monday),
            Timestamp::parse("2026-02-09").unwrap()
        );
    }

    #[test]
    fn weeks_open_on_monday() {
        // 2026-02-05 is a Thursday; its week opened Monday 2026-02-02.
        let t = Timestamp::parse("2026-02-05T13:00:00Z").unwrap();
        assert_eq!(Timeframe::W1.floor(t).to_string(), "2026-02-02T00:00:00Z");
        assert_eq!(Timeframe::H4.floor(t).to_string(), "2026-02-05T12:00:00Z");
        assert!(Timeframe::D1.is_multiple_of(Timeframe::H4));
        assert!(!Timeframe::H4.is_multiple_of(Timeframe::D1));
    }
}
