//! [`Context`]: everything knowable at a time T, from a store and a company-facts file, each
//! input with its source, its kind (real, simulated, user) and its age at T. This is the one
//! place where the as-of rule of each kind of data is applied:
//!
//! - **bars**: rows with `available_at <= T` (a bar is available at its close); when a lower
//!   timeframe reaches further than the stored bars of the one asked for, the missing bars are
//!   built from it (complete buckets only), and a disagreement between the two is a warning;
//! - **network series**: values whose day had ended by T (for fetched series, whose time had
//!   passed);
//! - **derivatives**: a level (open interest, a settled funding rate) from its time, a flow
//!   (liquidations) from its bar's close; stale after [`STALE_INTERVALS`] of its interval;
//! - **markets** (equities, indices, gauges): a US day's values from its exchange's close
//!   (16:00 New York, 13:00 on an early-close day), a gauge from the start of its UTC day;
//!   stale after [`STALE_INTERVALS`] more days of its market closed without a value;
//! - **company facts**: each figure's latest value *published* by T (filing or release date,
//!   or a documented filing lag after its period end when the date is unknown);
//! - **entity outflows**: transactions whose block time is at or before T;
//! - **news**: items first seen (or published, when earlier) at or before T.
//!
//! **Staleness.** Each input has an expected interval: a candle its timeframe, a daily network
//! series one day, a company figure a quarter. An input whose latest value describes a time
//! more than [`STALE_INTERVALS`] intervals before T (two quarters for company figures,
//! [`FACT_STALE_QUARTERS`]) carries a `stale` warning, and every report that uses it shows the
//! warning. Entity outflows have no expected interval (an entity may simply not move coins)
//! and are never stale. News is stale when its latest item is more than [`NEWS_STALE_MS`]
//! old: the feeds have stopped, and the news shown is not today's.

use std::collections::BTreeMap;

use canary_analytics::resample::resample;
use canary_analytics::series::Bars;
use canary_model::derivatives::DerivSeries;
use canary_model::markets::MarketSeries;
use canary_model::network::NetworkSeries;
use canary_model::news::NewsItem;
use canary_model::{Candle, SourceKind, Symbol, Timeframe, Timestamp};
use canary_store::{
    CandleQuery, DerivSeriesInfo, NewsQuery, StoredAnalysis, StoredOutflow, Stores,
};

use crate::EngineError;
use crate::facts::{CompanyAsOf, Profiles};
use crate::report::{Warning, WarningKind};

const DAY_MS: i64 = 86_400_000;

/// An input is stale when its latest value describes a time more than this many expected
/// intervals before the as-of time (candles, daily network series).
pub const STALE_INTERVALS: i64 = 3;

/// A company figure is stale when its period ended more than this many quarters (of 91 days)
/// before the as-of time: at least one quarterly report has come and gone without it.
pub const FACT_STALE_QUARTERS: i64 = 2;

/// News is stale when its latest item was first seen this long before the as-of time.
pub const NEWS_STALE_MS: i64 = 3 * DAY_MS;

/// One input of a report: the value, where it came from and how old it is at T.
#[derive(Debug, Clone, PartialEq)]
pub struct Input<T> {
    pub value: T,
    /// What it is: `BTCUSDT 1d`, `hashrate_hs`, `MSTR facts`.
    pub series: String,
    /// Where it came from: file names, API addresses, `resample:4h`, joined by `+`.
    pub source: String,
    pub kind: SourceKind,
    /// The time its latest value describes (a bar's close, a day's end, a period end).
    pub last_time: Option<Timestamp>,
    /// How long before the as-of time that was, in milliseconds.
    pub age_ms: Option<i64>,
    /// What a report using it must show: stale, sources that disagree, assumed dates.
    pub warnings: Vec<Warning>,
}

impl<T> Input<T> {
    #[must_use]
    pub fn simulated(&self) -> bool {
        self.kind == SourceKind::Sim
    }

    /// Whether a `stale` warning came with it.
    #[must_use]
    pub fn is_stale(&self) -> bool {
        self.warnings.iter().any(|w| w.kind == WarningKind::Stale)
    }
}

/// A network series: (day or moment, value), in time order.
pub type Series = Vec<(Timestamp, f64)>;

/// Bars built from a lower timeframe: which one, the bars, and the sources they came from.
struct Built {
    lower: Timeframe,
    candles: Vec<Candle>,
    sources: Vec<String>,
}

/// Bars of one instrument and timeframe.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketBars {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub candles: Vec<Candle>,
}

impl Input<MarketBars> {
    /// The bars as the analytics take them, named for claims.
    #[must_use]
    pub fn bars(&self) -> Bars<'_> {
        Bars {
            symbol: &self.value.symbol,
            timeframe: self.value.timeframe,
            source: &self.source,
            candles: &self.value.candles,
        }
    }
}

/// `age` in days, for warnings.
fn days(ms: i64) -> f64 {
    (ms as f64 / DAY_MS as f64 * 10.0).round() / 10.0
}

/// A human age: `12 min`, `5 h`, `3.2 days`.
fn human_age(ms: i64) -> String {
    if ms < 3_600_000 {
        format!("{} min", ms / 60_000)
    } else if ms < 2 * DAY_MS {
        format!("{} h", ms / 3_600_000)
    } else {
        format!("{} days", days(ms))
    }
}

/// The `stale` warning for an input whose latest value describes `last`, if it is older than
/// `limit_ms` at `asof`.
fn staleness(
    series: &str,
    last: Timestamp,
    asof: Timestamp,
    limit_ms: i64,
    expected: &str,
) -> Option<Warning> {
    let age = asof.millis() - last.millis();
    (age > limit_ms).then(|| Warning {
        kind: WarningKind::Stale,
        series: series.to_string(),
        last_time: Some(last),
        age_days: Some(days(age)),
        message: format!(
            "{series}: the latest value describes {last}, {} before {asof} (expected every {expected}; stale after {})",
            human_age(age),
            human_age(limit_ms)
        ),
    })
}

/// Everything knowable at one time.
#[derive(Debug)]
pub struct Context<'a> {
    store: &'a dyn Stores,
    asof: Timestamp,
    kinds: BTreeMap<String, SourceKind>,
    profiles: Option<&'a Profiles>,
    /// The derivatives series known at T, listed once (a listing reads the whole table).
    derivs: std::sync::OnceLock<Vec<DerivSeriesInfo>>,
    /// The market series known at T, listed once.
    markets: std::sync::OnceLock<Vec<canary_store::MarketSeriesInfo>>,
}

impl<'a> Context<'a> {
    /// A context over `store` as of `asof`.
    ///
    /// # Errors
    /// A database error reading the sources' kinds.
    pub fn new(store: &'a dyn Stores, asof: Timestamp) -> Result<Self, EngineError> {
        Ok(Context {
            store,
            asof,
            kinds: store.source_kinds()?,
            profiles: None,
            derivs: std::sync::OnceLock::new(),
            markets: std::sync::OnceLock::new(),
        })
    }

    /// The same context with company facts from `profiles`.
    #[must_use]
    pub fn with_profiles(mut self, profiles: &'a Profiles) -> Self {
        self.profiles = Some(profiles);
        self
    }

    #[must_use]
    pub fn asof(&self) -> Timestamp {
        self.asof
    }

    /// The same inputs as of an earlier time `t`: a history or a backtest walking up to T
    /// sees at each step only what was known then.
    ///
    /// # Errors
    /// [`EngineError::Param`] when `t` is after this context's time (that would read past
    /// T); a database error.
    pub fn at(&self, t: Timestamp) -> Result<Context<'a>, EngineError> {
        if t > self.asof {
            return Err(EngineError::param(
                "asof",
                t,
                &format!(
                    "a step of this report is after its as-of time {}",
                    self.asof
                ),
            ));
        }
        Ok(Context {
            store: self.store,
            asof: t,
            kinds: self.kinds.clone(),
            profiles: self.profiles,
            derivs: std::sync::OnceLock::new(),
            markets: std::sync::OnceLock::new(),
        })
    }

    /// The company facts in use, if any were given.
    #[must_use]
    pub fn profiles(&self) -> Option<&'a Profiles> {
        self.profiles
    }

    /// The kind of data several sources make: simulated if any is.
    fn kind_of<'s>(&self, sources: impl IntoIterator<Item = &'s str>) -> SourceKind {
        let mut kind = SourceKind::Real;
        for s in sources {
            match self.kinds.get(s) {
                Some(SourceKind::Sim) => return SourceKind::Sim,
                Some(SourceKind::User) => kind = SourceKind::User,
                _ => {}
            }
        }
        kind
    }

    /// The stored series, for an error that found none to use: `BTCUSDT 4h, BTCUSDT 1d`, or
    /// how to store one.
    ///
    /// # Errors
    /// A database error.
    pub fn stored_series(&self) -> Result<String, EngineError> {
        let known: Vec<String> = self
            .store
            .series()?
            .iter()
            .map(|s| format!("{} {}", s.symbol, s.timeframe))
            .collect();
        Ok(if known.is_empty() {
            "none (import bars first)".to_string()
        } else {
            known.join(", ")
        })
    }

    fn stored(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        last: Option<usize>,
    ) -> Result<StoredBars, EngineError> {
        let q = CandleQuery {
            asof: Some(self.asof),
            last,
            ..CandleQuery::default()
        };
        // Only what the context keeps of each bar: a long series is not held twice.
        let mut bars = StoredBars::default();
        let mut names = std::collections::BTreeSet::new();
        self.store.candles_each(symbol, tf, &q, &mut |c| {
            bars.candles.push(c.candle);
            bars.available.push(c.available_at);
            if !names.contains(c.source.as_str()) {
                names.insert(c.source.clone());
            }
        })?;
        bars.sources = names.into_iter().collect();
        Ok(bars)
    }

    /// Bars of `tf` built from the freshest stored lower timeframe (complete buckets only),
    /// with that timeframe and the sources used.
    fn built(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        last: Option<usize>,
    ) -> Result<Option<Built>, EngineError> {
        let mut best: Option<Built> = None;
        // Nearest lower timeframe first: at equal freshness it is the one kept.
        for lower in Timeframe::ALL
            .iter()
            .rev()
            .filter(|l| tf.is_multiple_of(**l))
        {
            // Enough lower bars for `last` higher ones, and the bucket still open.
            let per = usize::try_from(tf.duration_ms() / lower.duration_ms()).unwrap_or(1);
            let rows = self.stored(symbol, *lower, last.map(|n| (n + 2) * per))?;
            if rows.candles.is_empty() {
                continue;
            }
            let pairs: Vec<_> = rows
                .candles
                .iter()
                .copied()
                .zip(rows.available.iter().copied())
                .collect();
            let candles: Vec<Candle> = resample(&pairs, *lower, tf, self.asof)?
                .into_iter()
                .filter(|r| r.complete)
                .map(|r| r.candle)
                .collect();
            let Some(last) = candles.last().map(|c| c.open_time) else {
                continue;
            };
            if best
                .as_ref()
                .is_none_or(|b| b.candles.last().is_none_or(|c| c.open_time < last))
            {
                best = Some(Built {
                    lower: *lower,
                    candles,
                    sources: rows.sources,
                });
            }
        }
        Ok(best)
    }

    /// The bars of `symbol` at `tf` available at T: the stored ones, continued with bars built
    /// from a lower timeframe where that reaches further (so a daily series stored last month
    /// does not hide the days since, which the 4h bars know). Where both exist for the same
    /// bar and differ, a `disagree` warning says so; the stored bar is kept.
    ///
    /// # Errors
    /// [`EngineError::NoBars`] when there are none, stored or buildable; a database error.
    pub fn bars(&self, symbol: &Symbol, tf: Timeframe) -> Result<Input<MarketBars>, EngineError> {
        self.bars_limited(symbol, tf, None)
    }

    /// As [`Context::bars`], only the latest `n` bars: a long series is not read whole when the
    /// end of it is all that is needed.
    ///
    /// # Errors
    /// As [`Context::bars`].
    pub fn last_bars(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        n: usize,
    ) -> Result<Input<MarketBars>, EngineError> {
        self.bars_limited(symbol, tf, Some(n))
    }

    fn bars_limited(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        last: Option<usize>,
    ) -> Result<Input<MarketBars>, EngineError> {
        let stored = self.stored(symbol, tf, last)?;
        let built = self.built(symbol, tf, last)?;
        let series = format!("{symbol} {tf}");
        let mut warnings = Vec::new();
        let mut sources = stored.sources;
        let mut kind_sources = sources.clone();
        let mut candles: Vec<Candle> = stored.candles;
        if let Some(Built {
            lower,
            candles: more,
            sources: lower_sources,
        }) = built
        {
            let stored_last = candles.last().map(|c| c.open_time);
            let differ: Vec<(Candle, Candle)> = more
                .iter()
                .filter_map(|b| {
                    let i = candles
                        .binary_search_by_key(&b.open_time, |c| c.open_time)
                        .ok()?;
                    let s = candles[i];
                    let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs());
                    let same = close(s.open, b.open)
                        && close(s.high, b.high)
                        && close(s.low, b.low)
                        && close(s.close, b.close);
                    (!same).then_some((s, *b))
                })
                .collect();
            if let Some((s, b)) = differ.first() {
                warnings.push(Warning {
                    kind: WarningKind::Disagree,
                    series: series.clone(),
                    last_time: None,
                    age_days: None,
                    message: format!(
                        "{series}: {} stored bars ({}) differ from those built from {lower} bars, e.g. {}: stored close {}, built {}; the stored bars are used",
                        differ.len(),
                        sources.join("+"),
                        s.open_time,
                        s.close,
                        b.close
                    ),
                });
            }
            let newer: Vec<Candle> = more
                .into_iter()
                .filter(|c| stored_last.is_none_or(|l| c.open_time > l))
                .collect();
            let built_name = format!("resample:{lower}");
            if !newer.is_empty() && !sources.contains(&built_name) {
                sources.push(built_name);
            }
            if !newer.is_empty() {
                kind_sources.extend(lower_sources);
                candles.extend(newer);
            }
        }
        if let Some(n) = last
            && candles.len() > n
        {
            candles.drain(..candles.len() - n);
        }
        let Some(last) = candles.last() else {
            return Err(EngineError::NoBars {
                symbol: symbol.clone(),
                timeframe: tf,
                asof: self.asof,
                stored: self.stored_series()?,
            });
        };
        let last_time = tf.close_of(last.open_time);
        warnings.extend(staleness(
            &series,
            last_time,
            self.asof,
            STALE_INTERVALS * tf.duration_ms(),
            tf.as_str(),
        ));
        Ok(Input {
            kind: self.kind_of(kind_sources.iter().map(String::as_str)),
            value: MarketBars {
                symbol: symbol.clone(),
                timeframe: tf,
                candles,
            },
            series,
            source: sources.join("+"),
            last_time: Some(last_time),
            age_ms: Some(self.asof.millis() - last_time.millis()),
            warnings,
        })
    }

    /// Every derivatives series with values known at T, with its sources then.
    ///
    /// # Errors
    /// A database error.
    pub fn derivative_series(&self) -> Result<Vec<DerivSeriesInfo>, EngineError> {
        if let Some(list) = self.derivs.get() {
            return Ok(list.clone());
        }
        let list = self.store.derivative_series(Some(self.asof))?;
        Ok(self.derivs.get_or_init(|| list).clone())
    }

    /// Every version of a series' values known at T, each with when it became available, in
    /// that order (to replay the series as it was known at earlier times).
    ///
    /// # Errors
    /// A database error.
    pub fn derivative_versions(
        &self,
        series: &DerivSeries,
    ) -> Result<Vec<canary_store::Point>, EngineError> {
        Ok(self.store.derivative_versions(series, Some(self.asof))?)
    }

    /// A derivatives series as of T; `None` when nothing of it is known by then. Its latest
    /// value describes its time (a level) or its bar's close (a flow), and is stale when that
    /// is more than [`STALE_INTERVALS`] intervals before T.
    ///
    /// # Errors
    /// A database error.
    pub fn derivatives(&self, series: &DerivSeries) -> Result<Option<Input<Series>>, EngineError> {
        let values = self.store.derivatives(series, Some(self.asof))?;
        self.derivative_input(series, values)
    }

    /// As [`Context::derivatives`], the values from `from` on only (staleness is the same:
    /// it depends on the latest value).
    ///
    /// # Errors
    /// A database error.
    pub fn derivatives_since(
        &self,
        series: &DerivSeries,
        from: Timestamp,
    ) -> Result<Option<Input<Series>>, EngineError> {
        let values = self
            .store
            .derivatives_since(series, from, Some(self.asof))?;
        self.derivative_input(series, values)
    }

    fn derivative_input(
        &self,
        series: &DerivSeries,
        values: Series,
    ) -> Result<Option<Input<Series>>, EngineError> {
        let Some(&(t, _)) = values.last() else {
            return Ok(None);
        };
        let sources = self
            .derivative_series()?
            .into_iter()
            .find(|i| &i.series == series)
            .map(|i| i.sources)
            .unwrap_or_default();
        let name = series.to_string();
        let last_time = series.available_at(t);
        let interval = series.interval.millis();
        let warnings = staleness(
            &name,
            last_time,
            self.asof,
            STALE_INTERVALS * interval,
            &series.interval.to_string(),
        )
        .into_iter()
        .collect();
        Ok(Some(Input {
            kind: self.kind_of(sources.iter().map(String::as_str)),
            value: values,
            series: name,
            source: sources.join("+"),
            last_time: Some(last_time),
            age_ms: Some(self.asof.millis() - last_time.millis()),
            warnings,
        }))
    }

    /// The market series known at T (equities, indices, gauges), with their spans.
    ///
    /// # Errors
    /// A database error.
    pub fn market_series(&self) -> Result<Vec<canary_store::MarketSeriesInfo>, EngineError> {
        if let Some(list) = self.markets.get() {
            return Ok(list.clone());
        }
        let list = self.store.market_series(Some(self.asof))?;
        Ok(self.markets.get_or_init(|| list).clone())
    }

    /// Every version of a market series' values known at T, each with when it became
    /// available, in that order (to replay the series as it was known at earlier times).
    ///
    /// # Errors
    /// A database error.
    pub fn market_versions(
        &self,
        series: &MarketSeries,
    ) -> Result<Vec<canary_store::Point>, EngineError> {
        Ok(self.store.market_versions(series, Some(self.asof))?)
    }

    /// A market series as of T from day `from` on; `None` when nothing of it is known by then.
    /// Its latest value describes its day's close (a gauge: the start of its UTC day) and is
    /// stale when [`STALE_INTERVALS`] more days of its market have closed by T without one.
    ///
    /// # Errors
    /// A database error.
    pub fn markets_since(
        &self,
        series: &MarketSeries,
        from: Timestamp,
    ) -> Result<Option<Input<Series>>, EngineError> {
        let values = self.store.markets_since(series, from, Some(self.asof))?;
        let Some(&(day, _)) = values.last() else {
            return Ok(None);
        };
        if self.markets.get().is_none() {
            self.market_series()?;
        }
        let sources: Vec<String> = self
            .markets
            .get()
            .and_then(|l| l.iter().find(|i| &i.series == series))
            .map(|i| i.sources.clone())
            .unwrap_or_default();
        let name = series.to_string();
        let known = |d: Timestamp| series.available_at(d).unwrap_or(d);
        let last_time = known(day);
        let k = u32::try_from(STALE_INTERVALS).unwrap_or(3);
        let limit = known(series.market.days_after(day, k)).millis() - last_time.millis();
        let expected = match series.market {
            canary_model::markets::Market::Us => "US trading day",
            canary_model::markets::Market::Utc => "day",
        };
        let warnings = staleness(&name, last_time, self.asof, limit, expected)
            .into_iter()
            .collect();
        Ok(Some(Input {
            kind: self.kind_of(sources.iter().map(String::as_str)),
            value: values,
            series: name,
            source: sources.join("+"),
            last_time: Some(last_time),
            age_ms: Some(self.asof.millis() - last_time.millis()),
            warnings,
        }))
    }

    /// A daily network series as of T (`vendor`: a fetched series such as `mempool`'s, kept
    /// apart from imported ones); `None` when nothing is stored by then.
    ///
    /// # Errors
    /// A database error.
    pub fn network(
        &self,
        series: NetworkSeries,
        vendor: Option<&str>,
    ) -> Result<Option<Input<Series>>, EngineError> {
        let name = series.stored_name(vendor);
        let values = self.store.network(&name, Some(self.asof))?;
        let Some(&(t, _)) = values.last() else {
            return Ok(None);
        };
        let source = self.store.network_sources(&name)?;
        // A daily value describes its whole day; a fetched value, its moment.
        let last_time = if vendor.is_none() {
            t.add_millis(DAY_MS)
        } else {
            t
        };
        let warnings = staleness(&name, last_time, self.asof, STALE_INTERVALS * DAY_MS, "day")
            .into_iter()
            .collect();
        Ok(Some(Input {
            kind: self.kind_of(source.split(',')),
            value: values,
            series: name,
            source,
            last_time: Some(last_time),
            age_ms: Some(self.asof.millis() - last_time.millis()),
            warnings,
        }))
    }

    /// A company's figures as published by T; `None` without a facts file or for a ticker it
    /// does not list.
    #[must_use]
    pub fn facts(&self, ticker: &str) -> Option<Input<CompanyAsOf>> {
        let profiles = self.profiles?;
        let profile = profiles.companies.get(ticker)?;
        let c = profile.as_of(ticker, self.asof);
        let series = format!("{ticker} facts");
        let mut warnings = Vec::new();
        let limit = FACT_STALE_QUARTERS * 91 * DAY_MS;
        let old: Vec<String> = c
            .facts
            .iter()
            .map(|(k, f)| (k.name(), f.period_end))
            .chain(c.debt.iter().map(|d| ("debt", d.period_end)))
            .filter(|(_, t)| self.asof.millis() - t.millis() > limit)
            .map(|(k, t)| format!("{k} ({})", &t.to_string()[..10]))
            .collect();
        let oldest = c
            .facts
            .values()
            .map(|f| f.period_end)
            .chain(c.debt.iter().map(|d| d.period_end))
            .min();
        if let (false, Some(oldest)) = (old.is_empty(), oldest) {
            let mut old = old;
            old.dedup();
            warnings.push(Warning {
                kind: WarningKind::Stale,
                series: series.clone(),
                last_time: Some(oldest),
                age_days: Some(days(self.asof.millis() - oldest.millis())),
                message: format!(
                    "{ticker}: figures describing periods more than {FACT_STALE_QUARTERS} quarters before {}: {}",
                    self.asof,
                    old.join(", ")
                ),
            });
        }
        let undated: Vec<&str> = c
            .facts
            .iter()
            .filter(|(_, f)| matches!(f.published, crate::facts::Published::Assumed { .. }))
            .map(|(k, _)| k.name())
            .chain(
                c.debt
                    .iter()
                    .filter(|d| matches!(d.published, crate::facts::Published::Assumed { .. }))
                    .map(|d| d.name.as_str()),
            )
            .collect();
        if !undated.is_empty() {
            warnings.push(Warning {
                kind: WarningKind::Undated,
                series: series.clone(),
                last_time: None,
                age_days: None,
                message: format!(
                    "{ticker}: publication date unknown for {}; each is taken as public a filing lag after its period end (see its citation)",
                    undated.join(", ")
                ),
            });
        }
        let last_time = c
            .facts
            .values()
            .map(|f| f.period_end)
            .chain(c.debt.iter().map(|d| d.period_end))
            .max();
        Some(Input {
            value: c,
            series,
            source: profiles.origin.clone(),
            kind: SourceKind::Real,
            age_ms: last_time.map(|t| self.asof.millis() - t.millis()),
            last_time,
            warnings,
        })
    }

    /// News items known at T that became available within `lookback_ms` before it, oldest
    /// first, with a `stale` warning when the latest is older than [`NEWS_STALE_MS`] (or none
    /// is stored at all within the lookback).
    ///
    /// # Errors
    /// A database error.
    pub fn news(&self, lookback_ms: i64) -> Result<Input<Vec<NewsItem>>, EngineError> {
        let items = self.store.news(NewsQuery {
            asof: Some(self.asof),
            since: Some(self.asof.add_millis(-lookback_ms)),
            limit: None,
        })?;
        let last_time = items.last().map(|i| i.available_at);
        let age_ms = last_time.map(|t| self.asof.millis() - t.millis());
        let mut warnings = Vec::new();
        if age_ms.is_none_or(|a| a > NEWS_STALE_MS) {
            let age_days = age_ms.map(|a| a as f64 / DAY_MS as f64);
            warnings.push(Warning {
                kind: WarningKind::Stale,
                series: "news".into(),
                last_time,
                age_days,
                message: match last_time {
                    Some(t) => format!(
                        "the latest news item was first seen at {t}, {:.1} days before {}: poll the feeds or import newer headlines",
                        age_days.unwrap_or(0.0),
                        self.asof
                    ),
                    None => format!(
                        "no news items in the {:.0} days before {}: add feeds and poll them, or import headlines",
                        lookback_ms as f64 / DAY_MS as f64,
                        self.asof
                    ),
                },
            });
        }
        let sources: std::collections::BTreeSet<&str> =
            items.iter().map(|i| i.source.as_str()).collect();
        let kind = self.kind_of(sources.iter().copied());
        Ok(Input {
            series: "news".into(),
            source: sources.into_iter().collect::<Vec<_>>().join("+"),
            kind,
            last_time,
            age_ms,
            warnings,
            value: items,
        })
    }

    /// An entity's outflows known at T, in time order.
    ///
    /// # Errors
    /// A database error.
    pub fn outflows(&self, entity: &str) -> Result<Input<Vec<StoredOutflow>>, EngineError> {
        let rows = self.store.outflows(entity, Some(self.asof))?;
        let last_time = rows.last().map(|r| r.time);
        Ok(Input {
            last_time,
            age_ms: last_time.map(|t| self.asof.millis() - t.millis()),
            value: rows,
            series: format!("{entity} outflows"),
            source: "esplora transactions classified by canary labels".into(),
            kind: SourceKind::Real,
            warnings: Vec::new(),
        })
    }
}

impl Context<'_> {
    /// The entities with stored outflows, by name: the entities a label file names, which
    /// are the user's setting rather than dated data (an entity whose first outflow is after
    /// T is listed with none).
    ///
    /// # Errors
    /// A database error.
    pub fn flow_entities(&self) -> Result<Vec<String>, EngineError> {
        Ok(self.store.flow_entities()?)
    }

    /// The stored analyses about a time before T (optionally with a tag), newest first:
    /// what a new analysis at T can point back to.
    ///
    /// # Errors
    /// A database error.
    pub fn analyses_before(&self, tag: Option<&str>) -> Result<Vec<StoredAnalysis>, EngineError> {
        let mut all = self.store.analyses(tag)?;
        all.retain(|a| a.as_of < self.asof);
        Ok(all)
    }

    /// When each analysis with `tag` was stored, for those stored by T, in the store's order.
    ///
    /// # Errors
    /// A database error.
    pub fn analyses_stored(&self, tag: &str) -> Result<Vec<Timestamp>, EngineError> {
        Ok(self
            .store
            .analyses(Some(tag))?
            .into_iter()
            .map(|a| a.created_at)
            .filter(|t| *t <= self.asof)
            .collect())
    }

    /// News items by id, those known by T (oldest first).
    ///
    /// # Errors
    /// A database error.
    pub fn news_by_ids(&self, ids: &[String]) -> Result<Vec<NewsItem>, EngineError> {
        let mut items = self.store.news_by_ids(ids)?;
        items.retain(|i| i.available_at <= self.asof);
        Ok(items)
    }

    /// A search index of the news known at T. `index` is brought up to every stored item
    /// first and used when that is all it holds; when it also holds items known only after T,
    /// the search runs on a fresh index (in `scratch`) of the items known at T alone: BM25
    /// weighs a word by how rare it is among the indexed items, so later items would change
    /// how the earlier ones rank.
    ///
    /// # Errors
    /// A database or index error.
    pub fn news_index<'i>(
        &self,
        index: &'i mut canary_search::NewsIndex,
        scratch: &'i mut Option<canary_search::NewsIndex>,
    ) -> Result<&'i canary_search::NewsIndex, EngineError> {
        crate::reports::news::sync_news_index(self.store, index)?;
        let known = self.store.news(NewsQuery {
            asof: Some(self.asof),
            since: None,
            limit: None,
        })?;
        if known.len() as u64 == index.len() {
            return Ok(index);
        }
        let mut at_t = canary_search::NewsIndex::in_memory()?;
        at_t.add(&known, 0)?;
        Ok(scratch.insert(at_t))
    }
}

/// Stored bars as the context keeps them: each candle, when it became available, and the
/// sources (sorted, each once).
#[derive(Default)]
struct StoredBars {
    candles: Vec<Candle>,
    available: Vec<Timestamp>,
    sources: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_store::prelude::*;
    use canary_store::{NewCandle, Point, Revisions, Source};

    const H: i64 = 3_600_000;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn bar(open: Timestamp, close: f64, tf: Timeframe) -> NewCandle {
        NewCandle {
            candle: Candle::new(
                open,
                close,
                close + 1.0,
                close - 1.0,
                close,
                1.0,
                None,
                None,
            )
            .unwrap(),
            available_at: tf.close_of(open),
            source_bars: None,
        }
    }

    /// 4h bars from 1 Jan 2026 for `days` days, closing at 100, 101, …; the first `stored`
    /// days also stored as daily bars (closing like their last 4h bar, or `+ skew`).
    fn store(
        dir: &std::path::Path,
        days: i64,
        stored: i64,
        skew: f64,
        kind: Source<'_>,
    ) -> Box<dyn canary_store::Stores> {
        let mut s = canary_store::open(&dir.join("c.db")).unwrap();
        let sym = Symbol::new("BTCUSDT").unwrap();
        let start = t("2026-01-01");
        let h4: Vec<NewCandle> = (0..days * 6)
            .map(|i| {
                let close = 100.0 + i as f64;
                bar(start.add_millis(i * 4 * H), close, Timeframe::H4)
            })
            .collect();
        s.insert_candles(
            &sym,
            Timeframe::H4,
            kind,
            start,
            &h4,
            Revisions::Keep,
            |_| {},
        )
        .unwrap();
        let d1: Vec<NewCandle> = (0..stored)
            .map(|d| {
                let day = h4[usize::try_from(d * 6).unwrap()..usize::try_from(d * 6 + 6).unwrap()]
                    .iter()
                    .map(|b| b.candle)
                    .collect::<Vec<_>>();
                let mut c = day[0];
                c.high = day.iter().map(|b| b.high).fold(f64::MIN, f64::max);
                c.low = day.iter().map(|b| b.low).fold(f64::MAX, f64::min);
                c.close = day[5].close + skew;
                c.high = c.high.max(c.close);
                c.volume = 6.0;
                NewCandle {
                    candle: c,
                    available_at: Timeframe::D1.close_of(c.open_time),
                    source_bars: Some(6),
                }
            })
            .collect();
        s.insert_candles(
            &sym,
            Timeframe::D1,
            Source::real("daily.csv"),
            start,
            &d1,
            Revisions::Keep,
            |_| {},
        )
        .unwrap();
        s
    }

    #[test]
    fn stored_days_are_continued_by_days_built_from_lower_bars() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), 10, 4, 0.0, Source::real("h4.csv"));
        let sym = Symbol::new("BTCUSDT").unwrap();
        // 10 Jan 05:00: days 1–9 are closed; 1–4 stored, 5–9 built from 4h bars.
        let ctx = Context::new(&*s, t("2026-01-10T05:00:00Z")).unwrap();
        let d = ctx.bars(&sym, Timeframe::D1).unwrap();
        assert_eq!(d.value.candles.len(), 9);
        assert_eq!(d.value.candles[8].open_time, t("2026-01-09"));
        assert_eq!(d.source, "daily.csv+resample:4h");
        assert_eq!(d.last_time, Some(t("2026-01-10")));
        assert_eq!(d.age_ms, Some(5 * H));
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        assert!(!d.simulated());
        // The 4h bar that closes at 08:00 is not known at 05:00.
        let h = ctx.bars(&sym, Timeframe::H4).unwrap();
        assert_eq!(
            h.value.candles.last().unwrap().open_time,
            t("2026-01-10T00:00:00Z")
        );
    }

    #[test]
    fn stored_bars_that_differ_from_built_ones_are_kept_and_flagged() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), 6, 3, 0.5, Source::real("h4.csv"));
        let sym = Symbol::new("BTCUSDT").unwrap();
        let ctx = Context::new(&*s, t("2026-01-07")).unwrap();
        let d = ctx.bars(&sym, Timeframe::D1).unwrap();
        let w = &d.warnings[0];
        assert_eq!(w.kind, WarningKind::Disagree);
        assert!(w.message.contains("3 stored bars"), "{}", w.message);
        // Stored closes (with the skew) are kept, built ones follow.
        assert_eq!(d.value.candles[0].close, 105.5);
        assert_eq!(d.value.candles[5].close, 135.0);
    }

    #[test]
    fn old_bars_and_series_are_stale_and_simulated_sources_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(dir.path(), 3, 0, 0.0, Source::sim("generated"));
        let sym = Symbol::new("BTCUSDT").unwrap();
        // The last 4h bar closes at 4 Jan 00:00; 12 h later it is not yet stale, after it is.
        let fresh = Context::new(&*s, t("2026-01-04T12:00:00Z")).unwrap();
        let b = fresh.bars(&sym, Timeframe::H4).unwrap();
        assert!(!b.is_stale() && b.simulated());
        let later = Context::new(&*s, t("2026-01-04T12:00:01Z")).unwrap();
        let b = later.bars(&sym, Timeframe::H4).unwrap();
        assert!(b.is_stale(), "{:?}", b.warnings);
        assert_eq!(b.warnings[0].last_time, Some(t("2026-01-04")));

        let day = Timeframe::D1.duration_ms();
        let pts: Vec<Point> = (0..5)
            .map(|i| Point {
                time: t("2026-01-01").add_millis(i * day),
                value: 1.0,
                available_at: t("2026-01-02").add_millis(i * day),
            })
            .collect();
        s.insert_network(
            &[("difficulty", &pts)],
            Source::real("d.csv"),
            t("2026-01-01"),
            Revisions::Keep,
        )
        .unwrap();
        let at = |x: &str| {
            Context::new(&*s, t(x))
                .unwrap()
                .network(NetworkSeries::Difficulty, None)
                .unwrap()
        };
        // The last day (5 Jan) ends on 6 Jan; stale after 9 Jan.
        assert!(!at("2026-01-09").unwrap().is_stale());
        assert!(at("2026-01-09T00:00:01Z").unwrap().is_stale());
        assert!(at("2026-01-01").is_none(), "nothing had ended by then");
    }

    #[test]
    fn no_bars_name_the_stored_series() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), 2, 0, 0.0, Source::real("h4.csv"));
        let ctx = Context::new(&*s, t("2026-01-03")).unwrap();
        let e = ctx
            .bars(&Symbol::new("ETHUSDT").unwrap(), Timeframe::D1)
            .unwrap_err();
        assert!(
            matches!(&e, EngineError::NoBars { stored, .. } if stored == "BTCUSDT 4h"),
            "{e}"
        );
    }
}
