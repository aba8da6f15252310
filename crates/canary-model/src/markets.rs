//! Equities, equity indices and daily gauges as point-in-time series.
//!
//! Every value belongs to one [`MarketSeries`]: which [`Market`] dates it, which ticker and
//! which [`Field`] of the day. Its `time` is the day it belongs to (00:00 UTC of that date), and
//! when it can be known follows from the market:
//! - **US equities and indices** ([`Market::Us`]) are dated by the exchange's trading day; the
//!   day's bar is final at the close of the regular session, 16:00 New York time (20:00 UTC in
//!   summer, 21:00 UTC in winter), 13:00 on an early-close day, never at 00:00 UTC of the date.
//!   The daylight-saving rule comes from the IANA time-zone database (bundled with `jiff`), not
//!   from a hand-written rule. Every field of the day, the open included, is taken as known at
//!   the close: a daily file says nothing of when its open was printed.
//! - **Daily gauges** ([`Market::Utc`]) such as the Crypto Fear & Greed Index are dated by the UTC
//!   day on which they are published and known from 00:00 UTC of that day (alternative.me
//!   publishes each day's value at the start of the UTC day, from the previous day's data).
//!
//! Weekends and exchange holidays have no bar: they are not gaps.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

const DAY_MS: i64 = 86_400_000;

/// The market whose calendar dates a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Market {
    /// US equities, ETFs and indices: NYSE and Nasdaq trading days, regular session closing at
    /// 16:00 `America/New_York`.
    Us,
    /// A daily value dated by its UTC day and known from that day's 00:00 UTC.
    Utc,
}

impl Market {
    /// Its name in a series key.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Market::Us => "US",
            Market::Utc => "UTC",
        }
    }

    /// When the value dated `day` (00:00 UTC of its date) can first be known.
    ///
    /// # Errors
    /// When `day` is not 00:00 UTC of a date, or is a weekend day for a US series.
    pub fn available_at(self, day: Timestamp) -> Result<Timestamp, MarketError> {
        if day.millis().rem_euclid(DAY_MS) != 0 {
            return Err(MarketError::new(
                &day.to_string(),
                "a market value is dated by a day: 00:00 UTC of its date",
            ));
        }
        match self {
            Market::Utc => Ok(day),
            Market::Us => us_close(day),
        }
    }
}

impl Market {
    /// The `k`-th day after `day` on which this market has a value (a US trading day; any day
    /// for a gauge), as 00:00 UTC of its date.
    #[must_use]
    pub fn days_after(self, day: Timestamp, k: u32) -> Timestamp {
        let mut t = day;
        let mut found = 0;
        while found < k {
            t = t.add_millis(DAY_MS);
            let (y, m, d, ..) = t.to_civil();
            if self == Market::Utc || us_trading_day(y, m, d) {
                found += 1;
            }
        }
        t
    }
}

impl fmt::Display for Market {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why US markets (NYSE and Nasdaq) are shut on this weekday, if they are: a holiday of NYSE
/// Rule 7.2 (New Year's Day, Martin Luther King Jr. Day, Washington's Birthday, Good Friday,
/// Memorial Day, Juneteenth from 2022, Independence Day, Labor Day, Thanksgiving, Christmas;
/// one on a Sunday is observed the Monday after, one on a Saturday the Friday before, except
/// New Year's Day, which is then not observed), or a closure the exchanges announced (the
/// national days of mourning of 5 December 2018 and 9 January 2025).
#[must_use]
pub fn us_holiday(year: i64, month: u32, day: u32) -> Option<&'static str> {
    let wd = weekday(year, month, day)?;
    if wd >= 6 {
        return None;
    }
    let nth_weekday = |n: u32, want: u32| -> bool {
        // The n-th `want` weekday of the month falls on days 7(n-1)+1 ..= 7n.
        wd == want && (7 * (n - 1) + 1..=7 * n).contains(&day)
    };
    let last_monday_of_may = month == 5 && wd == 1 && day + 7 > 31;
    // A fixed-date holiday observed on the nearest weekday.
    let observed = |m: u32, d: u32| -> bool {
        let Some(hwd) = weekday(year, m, d) else {
            return false;
        };
        match hwd {
            6 => {
                // Saturday: the Friday before, in the same month here (the 19th, 4th, 25th).
                month == m && day + 1 == d
            }
            7 => month == m && day == d + 1,
            _ => month == m && day == d,
        }
    };
    let (em, ed) = easter(year);
    let good_friday = Timestamp::from_civil(year, em, ed, 0, 0, 0, 0)
        .ok()
        .map(|t| t.add_millis(-2 * DAY_MS).to_civil());
    let name = if (month, day) == (1, 1) || (month == 1 && day == 2 && wd == 1) {
        "New Year's Day"
    } else if month == 1 && nth_weekday(3, 1) {
        "Martin Luther King Jr. Day"
    } else if month == 2 && nth_weekday(3, 1) {
        "Washington's Birthday"
    } else if good_friday.is_some_and(|(y, m, d, ..)| (y, m, d) == (year, month, day)) {
        "Good Friday"
    } else if last_monday_of_may {
        "Memorial Day"
    } else if year >= 2022 && observed(6, 19) {
        "Juneteenth"
    } else if observed(7, 4) {
        "Independence Day"
    } else if month == 9 && nth_weekday(1, 1) {
        "Labor Day"
    } else if month == 11 && nth_weekday(4, 4) {
        "Thanksgiving Day"
    } else if observed(12, 25) {
        "Christmas Day"
    } else if (year, month, day) == (2018, 12, 5) || (year, month, day) == (2025, 1, 9) {
        "a national day of mourning"
    } else {
        return None;
    };
    Some(name)
}

/// Easter Sunday of a Gregorian year as (month, day): the anonymous Gregorian computus
/// (Meeus, *Astronomical Algorithms*, ch. 8).
fn easter(year: i64) -> (u32, u32) {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    (
        u32::try_from(month).unwrap_or(4),
        u32::try_from(day).unwrap_or(1),
    )
}

/// Whether US markets trade a regular session on this date: a weekday that is no holiday.
#[must_use]
pub fn us_trading_day(year: i64, month: u32, day: u32) -> bool {
    weekday(year, month, day).is_some_and(|wd| wd <= 5) && us_holiday(year, month, day).is_none()
}

/// Whether the US regular session closes early, at 13:00 New York time, on this date: the day
/// after Thanksgiving (the fourth Thursday of November), and 3 July and 24 December when they
/// fall Monday to Thursday (on a Friday they are the observed holiday and the market is shut).
/// The rule is NYSE's published holiday schedule (Rule 7.2, "Holidays and Trading Hours"); it
/// matches every early close of 2018–2026.
#[must_use]
pub fn us_early_close(year: i64, month: u32, day: u32) -> bool {
    let Some(weekday) = weekday(year, month, day) else {
        return false;
    };
    let monday_to_thursday = (1..=4).contains(&weekday);
    match (month, day) {
        (7, 3) | (12, 24) => monday_to_thursday,
        (11, d) => {
            // The fourth Thursday falls on the 22nd to the 28th; the Friday after it follows.
            weekday == 5 && (23..=29).contains(&d)
        }
        _ => false,
    }
}

/// ISO weekday (1 = Monday … 7 = Sunday) of a date, `None` for an impossible date.
fn weekday(year: i64, month: u32, day: u32) -> Option<u32> {
    let t = Timestamp::from_civil(year, month, day, 0, 0, 0, 0).ok()?;
    let days = t.millis().div_euclid(DAY_MS);
    // 1970-01-01 was a Thursday (4).
    u32::try_from((days + 3).rem_euclid(7) + 1).ok()
}

/// The instant the US regular session of `day` (00:00 UTC of its date) closes.
fn us_close(day: Timestamp) -> Result<Timestamp, MarketError> {
    let (y, m, d, ..) = day.to_civil();
    let shown = format!("{y:04}-{m:02}-{d:02}");
    let wd = weekday(y, m, d).unwrap_or(0);
    if wd >= 6 {
        let name = if wd == 6 { "a Saturday" } else { "a Sunday" };
        return Err(MarketError::new(
            &shown,
            format!("{name}: US markets do not trade, so no US value is dated on it"),
        ));
    }
    if let Some(holiday) = us_holiday(y, m, d) {
        return Err(MarketError::new(
            &shown,
            format!("{holiday}, a US market holiday: no US value is dated on it"),
        ));
    }
    let hour = if us_early_close(y, m, d) { 13 } else { 16 };
    let bad = |why: String| MarketError::new(&shown, why);
    let year = i16::try_from(y).map_err(|_| bad("year out of range".into()))?;
    let date = jiff::civil::Date::new(
        year,
        i8::try_from(m).unwrap_or(0),
        i8::try_from(d).unwrap_or(0),
    )
    .map_err(|e| bad(e.to_string()))?;
    let zoned = date
        .at(hour, 0, 0, 0)
        .in_tz("America/New_York")
        .map_err(|e| bad(format!("New York time: {e}")))?;
    Ok(Timestamp::from_millis(zoned.timestamp().as_millisecond()))
}

/// What a value of a market series is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Open,
    High,
    Low,
    Close,
    /// Shares (or units) traded over the day.
    Volume,
    /// A gauge's reading (the Fear & Greed Index, 0–100).
    Value,
}

impl Field {
    pub const ALL: [Field; 6] = [
        Field::Open,
        Field::High,
        Field::Low,
        Field::Close,
        Field::Volume,
        Field::Value,
    ];

    /// Its name in a series key.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Field::Open => "open",
            Field::High => "high",
            Field::Low => "low",
            Field::Close => "close",
            Field::Volume => "volume",
            Field::Value => "value",
        }
    }

    /// Why `v` is not a value of this field, if it is not: prices lie in the candles' range,
    /// a volume is ≥ 0 and at most the candles' maximum, a gauge's reading within ±1e15.
    #[must_use]
    pub fn refuse(self, v: f64) -> Option<String> {
        let shown = crate::candle::shown(v);
        if !v.is_finite() {
            return Some(format!("{shown} is not a finite number"));
        }
        let (lo, hi) = match self {
            Field::Open | Field::High | Field::Low | Field::Close => {
                (crate::candle::MIN_PRICE, crate::candle::MAX_PRICE)
            }
            Field::Volume => (0.0, crate::candle::MAX_VOLUME),
            Field::Value => (-1e15, 1e15),
        };
        (v < lo || v > hi)
            .then(|| format!("{shown} is outside [{lo:e}, {hi:e}], the range of a {self}"))
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Field {
    type Err = MarketError;
    fn from_str(s: &str) -> Result<Self, MarketError> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                MarketError::new(
                    s,
                    format!(
                        "not a field: use one of {}",
                        Self::ALL.map(Field::name).join(", ")
                    ),
                )
            })
    }
}

/// A ticker: 1 to 16 of `A`–`Z`, `0`–`9`, `.`, `-`, `_`, starting with a letter, upper case (`MARA`, `BRK.B`,
/// `FEAR_GREED`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ticker(String);

impl Ticker {
    /// The Nasdaq-100 index.
    pub const NASDAQ_100: &'static str = "NDX";
    /// The S&P 500 index.
    pub const SP_500: &'static str = "SPX";
    /// The Crypto Fear & Greed Index (alternative.me).
    pub const FEAR_GREED: &'static str = "FEAR_GREED";

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Ticker {
    type Err = MarketError;
    fn from_str(s: &str) -> Result<Self, MarketError> {
        let upper = s.trim().to_ascii_uppercase();
        let ok = upper.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
            && upper.len() <= 16
            && upper
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if ok {
            Ok(Ticker(upper))
        } else {
            Err(MarketError::new(
                s,
                "not a ticker: 1 to 16 letters, digits, `.`, `-` or `_`, from a letter",
            ))
        }
    }
}

impl TryFrom<String> for Ticker {
    type Error = MarketError;
    fn try_from(s: String) -> Result<Self, MarketError> {
        s.parse()
    }
}

impl From<Ticker> for String {
    fn from(t: Ticker) -> String {
        t.0
    }
}

impl fmt::Display for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One market series: `MARKET:TICKER:FIELD`, for example `US:MARA:close`,
/// `UTC:FEAR_GREED:value`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MarketSeries {
    pub market: Market,
    pub ticker: Ticker,
    pub field: Field,
}

impl MarketSeries {
    /// A US series (equity, ETF or index).
    ///
    /// # Panics
    /// Never for a valid ticker (the constructor takes one).
    #[must_use]
    pub fn us(ticker: &Ticker, field: Field) -> Self {
        Self {
            market: Market::Us,
            ticker: ticker.clone(),
            field,
        }
    }

    /// When its value dated `day` can be known; see [`Market::available_at`].
    ///
    /// # Errors
    /// As [`Market::available_at`].
    pub fn available_at(&self, day: Timestamp) -> Result<Timestamp, MarketError> {
        self.market.available_at(day)
    }
}

impl fmt::Display for MarketSeries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.market, self.ticker, self.field)
    }
}

impl FromStr for MarketSeries {
    type Err = MarketError;
    fn from_str(s: &str) -> Result<Self, MarketError> {
        let mut parts = s.split(':');
        let (Some(m), Some(t), Some(f), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(MarketError::new(
                s,
                "a market series is MARKET:TICKER:FIELD, e.g. US:MARA:close",
            ));
        };
        let market = match m {
            "US" => Market::Us,
            "UTC" => Market::Utc,
            _ => return Err(MarketError::new(m, "not a market: use US or UTC")),
        };
        Ok(Self {
            market,
            ticker: t.parse()?,
            field: f.parse()?,
        })
    }
}

/// Why a text is not a market series, ticker or field, or a day not a trading day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}: {reason}")]
pub struct MarketError {
    text: String,
    reason: String,
}

impl MarketError {
    fn new(text: &str, reason: impl Into<String>) -> Self {
        Self {
            text: crate::excerpt::quoted(text),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn close(s: &str) -> String {
        Market::Us.available_at(day(s)).unwrap().to_string()
    }

    #[test]
    fn us_close_follows_new_york_daylight_saving_on_both_2026_switch_days() {
        // 2026: summer time starts on Sunday 8 March and ends on Sunday 1 November.
        assert_eq!(close("2026-03-06"), "2026-03-06T21:00:00Z");
        assert_eq!(close("2026-03-09"), "2026-03-09T20:00:00Z");
        assert_eq!(close("2026-10-30"), "2026-10-30T20:00:00Z");
        assert_eq!(close("2026-11-02"), "2026-11-02T21:00:00Z");
        // The switch days themselves are Sundays: no US value is dated on them.
        for sunday in ["2026-03-08", "2026-11-01"] {
            let e = Market::Us.available_at(day(sunday)).unwrap_err();
            assert!(e.to_string().contains("a Sunday"), "{e}");
        }
        // The 2026-02-05 closes are known at 21:00 UTC that day, not at 00:00 UTC.
        assert_eq!(close("2026-02-05"), "2026-02-05T21:00:00Z");
    }

    #[test]
    fn early_close_days_close_at_13_new_york() {
        // The day after Thanksgiving 2026 (26 November), in winter time: 18:00 UTC.
        assert_eq!(close("2026-11-27"), "2026-11-27T18:00:00Z");
        // 24 December 2026 is a Thursday; 3 July 2025 a Thursday, in summer time.
        assert_eq!(close("2026-12-24"), "2026-12-24T18:00:00Z");
        assert_eq!(close("2025-07-03"), "2025-07-03T17:00:00Z");
        // 3 July 2026 is a Friday: the observed Independence Day, no early close rule.
        assert!(!us_early_close(2026, 7, 3));
        // A Friday in late November that does not follow Thanksgiving (2026-11-20).
        assert!(!us_early_close(2026, 11, 20));
        // Each year's Friday after Thanksgiving, 2018–2026.
        for (y, d) in [
            (2018, 23),
            (2019, 29),
            (2020, 27),
            (2021, 26),
            (2022, 25),
            (2023, 24),
            (2024, 29),
            (2025, 28),
            (2026, 27),
        ] {
            assert!(us_early_close(y, 11, d), "{y}-11-{d}");
        }
    }

    #[test]
    fn holidays_follow_the_nyse_rule_with_observed_days() {
        for (y, m, d, name) in [
            (2019, 4, 19, "Good Friday"),
            (2026, 4, 3, "Good Friday"),
            (2026, 1, 19, "Martin Luther King Jr. Day"),
            (2026, 2, 16, "Washington's Birthday"),
            (2026, 5, 25, "Memorial Day"),
            (2022, 6, 20, "Juneteenth"),
            (2026, 7, 3, "Independence Day"),
            (2021, 12, 24, "Christmas Day"),
            (2022, 12, 26, "Christmas Day"),
            (2023, 1, 2, "New Year's Day"),
            (2026, 11, 26, "Thanksgiving Day"),
            (2025, 1, 9, "a national day of mourning"),
        ] {
            assert_eq!(us_holiday(y, m, d), Some(name), "{y}-{m}-{d}");
        }
        // New Year's Day on a Saturday (2022) is not observed on Friday 2021-12-31; Juneteenth
        // was not a market holiday in 2021.
        assert!(us_trading_day(2021, 12, 31));
        assert!(us_trading_day(2021, 6, 18));
        assert!(!us_trading_day(2026, 2, 7), "a Saturday");
        let e = Market::Us.available_at(day("2019-04-19")).unwrap_err();
        assert!(e.to_string().contains("Good Friday"), "{e}");
    }

    #[test]
    fn the_days_after_a_day_skip_weekends_and_holidays() {
        // Thursday 2026-04-02: Good Friday and the weekend skipped, Monday then Tuesday.
        assert_eq!(
            Market::Us.days_after(day("2026-04-02"), 2),
            day("2026-04-07")
        );
        assert_eq!(
            Market::Utc.days_after(day("2026-04-02"), 2),
            day("2026-04-04")
        );
    }

    #[test]
    fn gauges_are_known_from_the_start_of_their_utc_day_and_days_are_midnights() {
        assert_eq!(
            Market::Utc.available_at(day("2026-02-06")).unwrap(),
            day("2026-02-06")
        );
        let e = Market::Us
            .available_at(day("2026-02-05T21:00:00Z"))
            .unwrap_err();
        assert!(e.to_string().contains("00:00 UTC"), "{e}");
    }

    #[test]
    fn series_keys_round_trip_and_refuse_what_they_cannot_hold() {
        for k in ["US:MARA:close", "UTC:FEAR_GREED:value", "US:BRK.B:volume"] {
            assert_eq!(k.parse::<MarketSeries>().unwrap().to_string(), k);
        }
        assert_eq!(
            "US:mara:close".parse::<MarketSeries>().unwrap().to_string(),
            "US:MARA:close"
        );
        for bad in [
            "US:MARA",
            "EU:MARA:close",
            "US:MA RA:close",
            "US:MARA:vwap",
            "",
        ] {
            assert!(bad.parse::<MarketSeries>().is_err(), "{bad}");
        }
        assert!(Field::Close.refuse(0.0).is_some());
        assert!(Field::Volume.refuse(-1.0).is_some());
        assert!(Field::Value.refuse(f64::NAN).is_some());
        assert!(Field::Close.refuse(24_548.7).is_none());
    }
}
