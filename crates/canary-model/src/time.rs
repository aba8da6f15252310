//! [`Timestamp`]: UTC milliseconds since the Unix epoch.
//!
//! Calendar conversions use the days-from-civil algorithm published by Howard Hinnant
//! ("chrono-Compatible Low-Level Date Algorithms"), proleptic Gregorian, UTC only.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Milliseconds in one day.
pub const DAY_MS: i64 = 86_400_000;

/// A point in time: UTC milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Why a text could not be read as a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid time {text}: {reason} (expected ISO-8601 like 2026-02-06T05:00:00Z or 2026-02-06, or unix seconds/ms)"
)]
pub struct TimestampError {
    /// The text, quoted (an excerpt when long).
    text: String,
    reason: &'static str,
}

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// From milliseconds since the epoch.
    #[must_use]
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    /// Milliseconds since the epoch.
    #[must_use]
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// This time plus `ms` milliseconds (saturating).
    #[must_use]
    pub const fn add_millis(self, ms: i64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }

    /// From a UTC calendar date and time of day.
    ///
    /// # Errors
    /// When a field is out of range (month 13, day 31 of April, hour 24, …).
    pub fn from_civil(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        milli: u32,
    ) -> Result<Self, &'static str> {
        if !(1..=12).contains(&month) {
            return Err("month out of range");
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err("day out of range for the month");
        }
        if hour > 23 || minute > 59 || second > 60 || milli > 999 {
            return Err("time of day out of range");
        }
        let days = days_from_civil(year, month, day);
        let second = i64::from(second.min(59)); // a leap second folds into :59
        Ok(Timestamp(
            days * DAY_MS
                + i64::from(hour) * 3_600_000
                + i64::from(minute) * 60_000
                + second * 1000
                + i64::from(milli),
        ))
    }

    /// The UTC calendar fields: (year, month, day, hour, minute, second, millisecond).
    #[must_use]
    pub fn to_civil(self) -> (i64, u32, u32, u32, u32, u32, u32) {
        let days = self.0.div_euclid(DAY_MS);
        let rem = self.0.rem_euclid(DAY_MS);
        let (y, m, d) = civil_from_days(days);
        let rem = u32::try_from(rem).unwrap_or(0);
        (
            y,
            m,
            d,
            rem / 3_600_000,
            (rem / 60_000) % 60,
            (rem / 1000) % 60,
            rem % 1000,
        )
    }

    /// Parse an ISO-8601 UTC time (`2026-02-06T05:00:00Z`, `2026-02-06 05:00:00`,
    /// `2026-02-06T05:00`, `2026-02-06`, fractional seconds and a `+00:00` offset allowed) or
    /// a unix time in seconds, milliseconds or microseconds (told apart by magnitude: below
    /// 10^11 seconds, below 10^14 milliseconds, else microseconds).
    ///
    /// # Errors
    /// When the text is neither form, or names an impossible date.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let t = text.trim();
        let err = |reason| TimestampError {
            text: crate::excerpt::quoted(text),
            reason,
        };
        if t.is_empty() {
            return Err(err("empty"));
        }
        if t.bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
            && !t[1..].contains('-')
        {
            return Self::parse_unix(t)
                .ok_or_else(|| err("not a number, or a unix time beyond the year 9999"));
        }
        Self::parse_iso(t).map_err(err)
    }

    fn parse_unix(t: &str) -> Option<Self> {
        let v: f64 = t.parse().ok()?;
        if !v.is_finite() {
            return None;
        }
        let abs = v.abs();
        let ms = if abs < 1e11 {
            v * 1000.0
        } else if abs < 1e14 {
            v
        } else {
            v / 1000.0
        };
        // Only times that print as a four-digit year (and so read back) are times.
        let (lo, hi) = (Self::EARLIEST_TEXT.0 as f64, Self::LATEST_TEXT.0 as f64);
        let ms = ms.round();
        if !(lo..=hi).contains(&ms) {
            return None;
        }
        #[expect(clippy::cast_possible_truncation)]
        Some(Timestamp(ms as i64))
    }

    /// 0000-01-01T00:00:00Z, the earliest time written with a four-digit year.
    const EARLIEST_TEXT: Timestamp = Timestamp(-62_167_219_200_000);
    /// 9999-12-31T23:59:59.999Z, the latest.
    const LATEST_TEXT: Timestamp = Timestamp(253_402_300_799_999);

    fn parse_iso(t: &str) -> Result<Self, &'static str> {
        let b = t.as_bytes();
        let num = |s: &[u8]| -> Result<u32, &'static str> {
            if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
                return Err("expected digits");
            }
            std::str::from_utf8(s)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or("expected digits")
        };
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return Err("expected YYYY-MM-DD");
        }
        let year = i64::from(num(&b[0..4])?);
        let month = num(&b[5..7])?;
        let day = num(&b[8..10])?;
        let mut rest = &b[10..];
        let (mut hour, mut minute, mut second, mut milli) = (0, 0, 0, 0);
        if !rest.is_empty() {
            if rest[0] != b'T' && rest[0] != b' ' && rest[0] != b't' {
                return Err("expected T or a space between date and time");
            }
            rest = &rest[1..];
            if rest.len() < 5 || rest[2] != b':' {
                return Err("expected HH:MM");
            }
            hour = num(&rest[0..2])?;
            minute = num(&rest[3..5])?;
            rest = &rest[5..];
            if rest.first() == Some(&b':') {
                if rest.len() < 3 {
                    return Err("expected seconds after ':'");
                }
                second = num(&rest[1..3])?;
                rest = &rest[3..];
                if rest.first() == Some(&b'.') {
                    let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    if digits == 0 {
                        return Err("expected digits after '.'");
                    }
                    let frac = &rest[1..=digits];
                    let mut ms = 0;
                    for (i, d) in frac.iter().take(3).enumerate() {
                        ms += u32::from(d - b'0') * [100, 10, 1][i];
                    }
                    milli = ms;
                    rest = &rest[1 + digits..];
                }
            }
            match rest {
                b"" | b"Z" | b"z" | b"+00:00" | b"+0000" | b"-00:00" => {}
                _ => return Err("only UTC times are accepted (end with Z or +00:00)"),
            }
        }
        Self::from_civil(year, month, day, hour, minute, second, milli)
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`] (Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl fmt::Display for Timestamp {
    /// ISO-8601 UTC, seconds precision unless there are milliseconds: `2026-02-06T00:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s, ms) = self.to_civil();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")?;
        if ms != 0 {
            write!(f, ".{ms:03}")?;
        }
        f.write_str("Z")
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (found by fuzzing): a unix time in microseconds beyond the year 9999 was
    /// accepted, and printed as a five-digit year that did not read back.
    #[test]
    fn parsed_times_read_back_and_unix_times_beyond_9999_are_refused() {
        assert!(Timestamp::parse("2177030175400007030").is_err());
        assert!(Timestamp::parse("1e300").is_err());
        assert!(Timestamp::parse("-99999999999999999").is_err());
        for text in ["253402300799999", "-62167219200", "1770354000000", "0"] {
            let t = Timestamp::parse(text).unwrap();
            assert_eq!(Timestamp::parse(&t.to_string()), Ok(t), "{text}");
        }
    }
    use proptest::prelude::*;

    #[test]
    fn parses_the_forms_found_in_market_files() {
        let want = Timestamp::from_millis(1_770_336_000_000); // 2026-02-06T00:00:00Z
        for s in [
            "2026-02-06T00:00:00Z",
            "2026-02-06 00:00:00",
            "2026-02-06T00:00",
            "2026-02-06",
            "2026-02-06T00:00:00.000+00:00",
            "1770336000",
            "1770336000000",
            "1770336000000000",
        ] {
            assert_eq!(Timestamp::parse(s).unwrap(), want, "{s}");
        }
        assert_eq!(want.to_string(), "2026-02-06T00:00:00Z");
    }

    #[test]
    fn rejects_impossible_dates_and_offsets() {
        for s in [
            "2025-02-29",
            "2026-13-01",
            "2026-01-01T24:00",
            "2026-01-01T01:00+02:00",
            "x",
            "",
        ] {
            assert!(Timestamp::parse(s).is_err(), "{s}");
        }
        assert!(Timestamp::parse("2024-02-29").is_ok());
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(ms in -2_000_000_000_000i64..8_000_000_000_000i64) {
            let t = Timestamp::from_millis(ms);
            prop_assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        }
    }
}
