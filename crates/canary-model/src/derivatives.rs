//! Derivatives data as point-in-time series: funding rates, open interest, liquidations, mark
//! and index prices.
//!
//! Every value belongs to one [`DerivSeries`]: what it measures ([`DerivKind`]), of which
//! market (`BTCUSDT`, or `BTC` for every BTC contract), on which [`Venues`] and at what
//! [`Interval`]. Venues never merge silently: a vendor's all-exchange aggregate is its own
//! series ([`Venues::All`]), and a sum over three venues names the three.
//!
//! A value has its time and an availability that follows from its kind:
//! - a **level** (open interest, a settled funding rate, a mark price) is observed at an
//!   instant, its `time`, and is known from then on;
//! - a **flow** (liquidations) sums over the bar `[time, time + interval)` and is known when the
//!   bar closes; a vendor's daily total is a 1-day bar, known at the end of its UTC day.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// What a derivatives value measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DerivKind {
    /// A settled funding rate, a fraction of the position per funding interval (0.0001 =
    /// 0.01 %), at its settlement time. Positive: longs pay shorts.
    FundingRate,
    /// The venue's running estimate of the next settlement's rate, as observed at `time`.
    PredictedFundingRate,
    /// Open interest in USD (or its stablecoin) at an instant.
    OpenInterestUsd,
    /// Open interest in the base asset (BTC) at an instant.
    OpenInterestBase,
    /// Open interest in contracts at an instant.
    OpenInterestContracts,
    /// USD of long positions liquidated over the bar.
    LongLiquidationsUsd,
    /// USD of short positions liquidated over the bar.
    ShortLiquidationsUsd,
    /// The venue's mark price at an instant.
    MarkPrice,
    /// The venue's index (spot reference) price at an instant.
    IndexPrice,
}

impl DerivKind {
    pub const ALL: [DerivKind; 9] = [
        DerivKind::FundingRate,
        DerivKind::PredictedFundingRate,
        DerivKind::OpenInterestUsd,
        DerivKind::OpenInterestBase,
        DerivKind::OpenInterestContracts,
        DerivKind::LongLiquidationsUsd,
        DerivKind::ShortLiquidationsUsd,
        DerivKind::MarkPrice,
        DerivKind::IndexPrice,
    ];

    /// Its name in a series key and on the command line.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            DerivKind::FundingRate => "funding_rate",
            DerivKind::PredictedFundingRate => "predicted_funding_rate",
            DerivKind::OpenInterestUsd => "oi_usd",
            DerivKind::OpenInterestBase => "oi_base",
            DerivKind::OpenInterestContracts => "oi_contracts",
            DerivKind::LongLiquidationsUsd => "long_liquidations_usd",
            DerivKind::ShortLiquidationsUsd => "short_liquidations_usd",
            DerivKind::MarkPrice => "mark_price",
            DerivKind::IndexPrice => "index_price",
        }
    }

    /// The unit of its values.
    #[must_use]
    pub const fn unit(self) -> &'static str {
        match self {
            DerivKind::FundingRate | DerivKind::PredictedFundingRate => "fraction per interval",
            DerivKind::OpenInterestUsd
            | DerivKind::LongLiquidationsUsd
            | DerivKind::ShortLiquidationsUsd => "USD",
            DerivKind::OpenInterestBase => "base units",
            DerivKind::OpenInterestContracts => "contracts",
            DerivKind::MarkPrice | DerivKind::IndexPrice => "quote units",
        }
    }

    /// Whether it sums over a bar (known at the bar's close) rather than being a level at an
    /// instant (known at that instant).
    #[must_use]
    pub const fn is_flow(self) -> bool {
        matches!(
            self,
            DerivKind::LongLiquidationsUsd | DerivKind::ShortLiquidationsUsd
        )
    }

    /// Why `v` is not a value of this kind, if it is not. Funding rates lie within ±1 (100 %
    /// of the position per interval; venues cap them near ±3 %); amounts are ≥ 0 and at most
    /// 1e15 (USD, contracts: a thousand times the whole market's open interest) or 1e12 base
    /// units; prices lie in the candles' range. The bounds keep sums, ratios and z-scores over
    /// decades of values finite.
    #[must_use]
    pub fn refuse(self, v: f64) -> Option<String> {
        let shown = crate::candle::shown(v);
        if !v.is_finite() {
            return Some(format!("{shown} is not a finite number"));
        }
        let (lo, hi) = match self {
            DerivKind::FundingRate | DerivKind::PredictedFundingRate => (-1.0, 1.0),
            DerivKind::OpenInterestUsd
            | DerivKind::OpenInterestContracts
            | DerivKind::LongLiquidationsUsd
            | DerivKind::ShortLiquidationsUsd => (0.0, 1e15),
            DerivKind::OpenInterestBase => (0.0, 1e12),
            DerivKind::MarkPrice | DerivKind::IndexPrice => {
                (crate::candle::MIN_PRICE, crate::candle::MAX_PRICE)
            }
        };
        (v < lo || v > hi).then(|| {
            format!(
                "{shown} is outside [{lo:e}, {hi:e}], the range of a {} ({}): check the file's units",
                self.name(),
                self.unit()
            )
        })
    }
}

impl fmt::Display for DerivKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DerivKind {
    type Err = DerivError;
    fn from_str(s: &str) -> Result<Self, DerivError> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| DerivError {
                text: crate::excerpt::quoted(s),
                reason: format!(
                    "not a derivatives kind: use one of {}",
                    Self::ALL.map(DerivKind::name).join(", ")
                ),
            })
    }
}

/// Why a text is not a derivatives series, venue set or interval.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}: {reason}")]
pub struct DerivError {
    text: String,
    reason: String,
}

impl DerivError {
    fn new(text: &str, reason: impl Into<String>) -> Self {
        Self {
            text: crate::excerpt::quoted(text),
            reason: reason.into(),
        }
    }
}

/// The venues a value covers: named ones, or every venue its source tracks (a vendor's
/// all-exchange aggregate, whose coverage is the vendor's and is said so).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Venues {
    /// Every venue the source tracks.
    All,
    /// These venues, lower-case, sorted, without repeats, at least one.
    Listed(Vec<String>),
}

impl Venues {
    /// One venue.
    ///
    /// # Errors
    /// When the name is not a venue name (see [`FromStr`]).
    pub fn one(name: &str) -> Result<Self, DerivError> {
        let v = Venues::from_str(name)?;
        match &v {
            Venues::Listed(l) if l.len() == 1 => Ok(v),
            _ => Err(DerivError::new(name, "not one venue")),
        }
    }

    /// Whether it is one named venue.
    #[must_use]
    pub fn single(&self) -> Option<&str> {
        match self {
            Venues::Listed(l) if l.len() == 1 => Some(&l[0]),
            _ => None,
        }
    }

    /// In words: "Binance", "Binance + Bybit + OKX", "every venue the source tracks".
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Venues::All => "every venue the source tracks".to_string(),
            Venues::Listed(l) => l
                .iter()
                .map(|v| venue_name(v))
                .collect::<Vec<_>>()
                .join(" + "),
        }
    }
}

impl fmt::Display for Venues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Venues::All => f.write_str("all"),
            Venues::Listed(l) => f.write_str(&l.join("+")),
        }
    }
}

impl FromStr for Venues {
    type Err = DerivError;
    /// `all`, or venue names joined by `+` (`binance+okx+bybit`), each of lower-case letters,
    /// digits, `.`, `_` and `-` (upper case is lowered), at most 32 characters.
    fn from_str(s: &str) -> Result<Self, DerivError> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("all") {
            return Ok(Venues::All);
        }
        let mut names = Vec::new();
        for part in t.split('+') {
            let n = part.trim().to_ascii_lowercase();
            if n.is_empty() || n.len() > 32 {
                return Err(DerivError::new(
                    s,
                    "a venue name is 1 to 32 characters (venues are joined by +, or `all`)",
                ));
            }
            if n == "all" {
                return Err(DerivError::new(s, "`all` cannot be joined with venues"));
            }
            if !n.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            }) {
                return Err(DerivError::new(
                    s,
                    "venue names hold letters, digits, `.`, `_` and `-` only",
                ));
            }
            names.push(n);
        }
        names.sort();
        names.dedup();
        Ok(Venues::Listed(names))
    }
}

/// A venue as people write it: `OKX`, `CME`, `dYdX`, else the name with a capital.
#[must_use]
pub fn venue_name(v: &str) -> String {
    match v {
        "okx" | "cme" | "htx" | "mexc" | "bingx" => v.to_ascii_uppercase(),
        "dydx" => "dYdX".into(),
        "crypto.com" => "Crypto.com".into(),
        "whitebit" => "WhiteBIT".into(),
        "kucoin" => "KuCoin".into(),
        _ => {
            let mut c = v.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        }
    }
}

/// How often a series is sampled (levels) or how long its bars are (flows): a whole number of
/// minutes, hours or days (`5m`, `8h`, `1d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    ms: i64,
}

impl Interval {
    pub const M1: Interval = Interval { ms: 60_000 };
    pub const M5: Interval = Interval { ms: 5 * 60_000 };
    pub const H4: Interval = Interval { ms: 4 * 3_600_000 };
    pub const H8: Interval = Interval { ms: 8 * 3_600_000 };
    pub const D1: Interval = Interval { ms: 86_400_000 };

    /// The interval of `ms` milliseconds, if it is a whole number of minutes from 1 minute to
    /// 31 days.
    #[must_use]
    pub fn from_millis(ms: i64) -> Option<Self> {
        ((60_000..=31 * 86_400_000).contains(&ms) && ms % 60_000 == 0).then_some(Interval { ms })
    }

    #[must_use]
    pub const fn millis(self) -> i64 {
        self.ms
    }

    /// How many fit in a year of 365 days (to annualise a funding rate).
    #[must_use]
    pub fn per_year(self) -> f64 {
        365.0 * 86_400_000.0 / self.ms as f64
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.ms / 60_000;
        if m % 1440 == 0 {
            write!(f, "{}d", m / 1440)
        } else if m % 60 == 0 {
            write!(f, "{}h", m / 60)
        } else {
            write!(f, "{m}m")
        }
    }
}

impl FromStr for Interval {
    type Err = DerivError;
    fn from_str(s: &str) -> Result<Self, DerivError> {
        let t = s.trim();
        let err = || {
            DerivError::new(
                s,
                "not an interval: a whole number of minutes, hours or days such as 5m, 8h, 1d (1 minute to 31 days)",
            )
        };
        let digits = t.chars().take_while(char::is_ascii_digit).count();
        let n: i64 = t[..digits].parse().map_err(|_| err())?;
        let unit = match &t[digits..] {
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(err()),
        };
        n.checked_mul(unit)
            .and_then(Interval::from_millis)
            .ok_or_else(err)
    }
}

/// One derivatives series: `funding_rate:BTCUSDT:binance:8h`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DerivSeries {
    pub kind: DerivKind,
    /// The market: an instrument (`BTCUSDT`) or an underlying (`BTC`, every contract on it).
    market: String,
    pub venues: Venues,
    pub interval: Interval,
}

impl DerivSeries {
    /// A series; the market is upper-cased.
    ///
    /// # Errors
    /// When the market is empty, longer than 32 characters or holds other characters than
    /// letters, digits, `.`, `_`, `-` and `/`.
    pub fn new(
        kind: DerivKind,
        market: &str,
        venues: Venues,
        interval: Interval,
    ) -> Result<Self, DerivError> {
        let m = market.trim().to_ascii_uppercase();
        if m.is_empty()
            || m.len() > 32
            || !m
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
        {
            return Err(DerivError::new(
                market,
                "a market is 1 to 32 letters, digits, `.`, `_`, `-` or `/` (BTCUSDT, or BTC for every BTC contract)",
            ));
        }
        Ok(Self {
            kind,
            market: m,
            venues,
            interval,
        })
    }

    #[must_use]
    pub fn market(&self) -> &str {
        &self.market
    }

    /// When a value at `time` becomes known: at `time` for a level, at the bar's close for a
    /// flow.
    #[must_use]
    pub fn available_at(&self, time: Timestamp) -> Timestamp {
        if self.kind.is_flow() {
            Timestamp::from_millis(time.millis().saturating_add(self.interval.millis()))
        } else {
            time
        }
    }

    /// The same series of another kind (the short side of a long liquidation series).
    #[must_use]
    pub fn with_kind(&self, kind: DerivKind) -> Self {
        Self {
            kind,
            ..self.clone()
        }
    }
}

impl fmt::Display for DerivSeries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}",
            self.kind, self.market, self.venues, self.interval
        )
    }
}

impl FromStr for DerivSeries {
    type Err = DerivError;
    /// `KIND:MARKET:VENUES:INTERVAL`, as [`fmt::Display`] writes it.
    fn from_str(s: &str) -> Result<Self, DerivError> {
        let parts: Vec<&str> = s.split(':').collect();
        let [kind, market, venues, interval] = parts[..] else {
            return Err(DerivError::new(
                s,
                "a derivatives series is KIND:MARKET:VENUES:INTERVAL, e.g. funding_rate:BTCUSDT:binance:8h",
            ));
        };
        DerivSeries::new(kind.parse()?, market, venues.parse()?, interval.parse()?)
    }
}

impl Serialize for DerivSeries {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DerivSeries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Which side's positions a liquidation closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiquidatedSide {
    /// A long position was liquidated (the venue sold).
    Long,
    /// A short position was liquidated (the venue bought).
    Short,
}

/// One liquidation order as a venue reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiquidationOrder {
    pub venue: String,
    pub market: String,
    pub time: Timestamp,
    pub side: LiquidatedSide,
    /// Price of the order (its average fill price when the venue gives one).
    pub price: f64,
    /// Quantity in base units.
    pub qty: f64,
}

impl LiquidationOrder {
    /// Its value in quote units (USD for USD-margined contracts).
    #[must_use]
    pub fn notional(&self) -> f64 {
        self.price * self.qty
    }
}

/// The basis of a perpetual: mark over index, minus one (0.001 = the mark 0.1 % above spot).
#[must_use]
pub fn basis(mark: f64, index: f64) -> f64 {
    mark / index - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_keys_round_trip_and_venues_are_normalised() {
        let s: DerivSeries = "long_liquidations_usd:btc:OKX+binance+bybit+okx:1d"
            .parse()
            .unwrap();
        assert_eq!(
            s.to_string(),
            "long_liquidations_usd:BTC:binance+bybit+okx:1d"
        );
        assert_eq!(s.to_string().parse::<DerivSeries>().unwrap(), s);
        assert_eq!(s.venues.describe(), "Binance + Bybit + OKX");
        let f: DerivSeries = "funding_rate:BTCUSDT:binance:8h".parse().unwrap();
        assert_eq!(f.venues.single(), Some("binance"));
        assert_eq!(f.interval.per_year(), 1095.0);
        assert_eq!(
            "oi_usd:BTC:all:4h".parse::<DerivSeries>().unwrap().venues,
            Venues::All
        );
    }

    #[test]
    fn availability_follows_the_kind() {
        let t = Timestamp::parse("2025-11-13T00:00:00Z").unwrap();
        let liq: DerivSeries = "short_liquidations_usd:BTC:binance:1d".parse().unwrap();
        assert_eq!(liq.available_at(t).to_string(), "2025-11-14T00:00:00Z");
        let oi = liq.with_kind(DerivKind::OpenInterestUsd);
        assert_eq!(oi.available_at(t), t);
    }

    #[test]
    fn bad_keys_say_what_is_wrong() {
        for (text, says) in [
            ("funding:BTCUSDT:binance:8h", "not a derivatives kind"),
            (
                "funding_rate:BTCUSDT:binance",
                "KIND:MARKET:VENUES:INTERVAL",
            ),
            ("funding_rate:BTC USDT:binance:8h", "a market is"),
            (
                "funding_rate:BTCUSDT:all+binance:8h",
                "`all` cannot be joined",
            ),
            ("funding_rate:BTCUSDT:bin ance:8h", "venue names hold"),
            ("funding_rate:BTCUSDT:binance:8x", "not an interval"),
            ("funding_rate:BTCUSDT:binance:30s", "not an interval"),
            (
                "funding_rate:BTCUSDT:binance:99999999999999999999d",
                "not an interval",
            ),
        ] {
            let e = text.parse::<DerivSeries>().unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn values_outside_a_kinds_range_are_refused() {
        assert!(DerivKind::FundingRate.refuse(-0.0075).is_none());
        assert!(
            DerivKind::FundingRate
                .refuse(3.0)
                .unwrap()
                .contains("outside")
        );
        assert!(DerivKind::OpenInterestUsd.refuse(-1.0).is_some());
        assert!(DerivKind::LongLiquidationsUsd.refuse(f64::NAN).is_some());
        assert!(DerivKind::MarkPrice.refuse(0.0).is_some());
        assert!((basis(100.1, 100.0) - 0.001).abs() < 1e-12);
    }
}
