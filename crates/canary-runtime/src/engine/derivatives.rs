//! What the engine keeps of the derivatives sources: levels sampled, liquidations binned.
//!
//! **Levels** (mark and index prices, open interest, funding rates): at most one value per
//! series per UTC minute is stored, the last one observed in the minute, at its own time and
//! available from when Canary had it. A series' minute is decided when a value of a later
//! minute comes or the clock is [`LEVEL_GRACE_MS`] past the minute's end; a value of a minute
//! already decided is late (dropped, counted). The value chosen is also recorded as an event,
//! so that a replay of the recorded events stores the same values; the others are not (a
//! venue pushing every 100 ms would otherwise fill the event log).
//!
//! **Liquidations**: every order is kept as an event; per source, venue and market the orders
//! are summed by the side liquidated into 1-minute bars of quote value
//! (`long_liquidations_usd:BTCUSDT:binance:1m` and its short twin), stored at the bar's open.
//! A minute is decided [`BAR_GRACE_MS`] after its end, on what the engine had by then (the
//! first event at or past that instant decides it before it is taken), and is available from
//! that instant: a silence the source reports (after at most 50 s) is known by then. It is
//! stored, 0 on a side without orders, only when the stream was watched throughout: heard
//! (its mark prices or liquidations) from before the minute to after it, and not touched by a
//! gap, a silence or a reconnection the source reported. A minute missing from a liquidation
//! series therefore means "not watched", and a 0 means "watched, none sent" — with Binance,
//! whose stream sends at most one order per symbol per second, an undercount, which the bars'
//! source name says. An order that comes after its minute was decided is late (kept as an
//! event, counted). Decided this way, the bars depend only on the events recorded, so a replay
//! of a recording stores the same bars, available at the same times.

use std::collections::BTreeMap;

use canary_engine::EngineError;
use canary_model::derivatives::{DerivKind, DerivSeries, Interval, LiquidatedSide, Venues};
use canary_model::{SourceKind, Timestamp};
use canary_store::{Point, Revisions, Source};

use super::{Engine, Event};

const MINUTE: i64 = 60_000;
/// How long after a minute's end its level samples wait for a late value.
pub const LEVEL_GRACE_MS: i64 = 10_000;
/// How long after a minute's end its liquidation bar waits: longer than the silence a source
/// reports as stale (at most 50 s, see `config.rs`), so that a stall is known before the
/// minutes it touched are decided.
pub const BAR_GRACE_MS: i64 = 60_000;

/// A value to store: under which source, in which series.
#[derive(Debug, Clone, PartialEq)]
pub struct Ready {
    pub source: String,
    pub series: DerivSeries,
    pub point: Point,
}

/// A liquidation bar decided with orders in it (for the engine's outputs).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub source: String,
    pub venue: String,
    pub market: String,
    pub open_time: Timestamp,
    pub long_usd: f64,
    pub short_usd: f64,
}

/// A level's minute not decided yet: the last value seen in it.
#[derive(Debug, Clone)]
struct Sample {
    minute: i64,
    source: String,
    time: Timestamp,
    value: f64,
    had: Timestamp,
}

/// One source's liquidations of one market on one venue.
#[derive(Debug, Clone)]
struct Feed {
    /// The first whole minute watched.
    first: i64,
    /// The first minute not decided yet.
    next: i64,
    /// Long and short quote value per minute not decided yet.
    open: BTreeMap<i64, (f64, f64)>,
}

/// The levels sampled and the liquidations binned, until the engine stores them.
#[derive(Debug, Default)]
pub(super) struct Derivatives {
    samples: BTreeMap<DerivSeries, Sample>,
    feeds: BTreeMap<(String, String, String), Feed>,
    /// When each source's stream was last heard (by when Canary had it).
    heard: BTreeMap<String, i64>,
    /// Spans a source reported it was not watching, per source and market (`None`: all).
    unwatched: BTreeMap<String, Vec<(Option<String>, i64, i64)>>,
    /// What each source's liquidation stream leaves out, when it says so.
    coverage: BTreeMap<String, String>,
    /// Values to store, and the sampled values' events to record.
    pub ready: Vec<Ready>,
    pub sampled: Vec<(Event, Timestamp)>,
    pub bars: Vec<Bar>,
    /// Values that came after their minute was decided, and values out of their kind's range.
    pub late: u64,
    pub refused: u64,
}

/// The start of the minute holding `ms`.
fn minute_of(ms: i64) -> i64 {
    ms.div_euclid(MINUTE) * MINUTE
}

impl Derivatives {
    /// Say what a source's liquidation stream leaves out (a live source's, known before any
    /// order comes).
    pub fn cover(&mut self, source: &str, coverage: &str) {
        self.coverage
            .insert(source.to_string(), coverage.to_string());
    }

    /// The source name the liquidation bars of `source` are stored under.
    fn bar_source(&self, source: &str) -> String {
        match self.coverage.get(source) {
            Some(c) => format!("{source} ({c})"),
            None => source.to_string(),
        }
    }

    fn hear(&mut self, source: &str, had: Timestamp) {
        let h = self.heard.entry(source.to_string()).or_insert(had.millis());
        *h = (*h).max(had.millis());
    }

    /// The feed of a market, registered when first heard: its first whole minute is the first
    /// it may store.
    fn feed(&mut self, source: &str, venue: &str, market: &str, had: Timestamp) -> &mut Feed {
        self.feeds
            .entry((source.to_string(), venue.to_string(), market.to_string()))
            .or_insert_with(|| {
                let first = minute_of(had.millis() + MINUTE - 1);
                Feed {
                    first,
                    next: first,
                    open: BTreeMap::new(),
                }
            })
    }

    /// A derivatives value as it came.
    pub fn value(
        &mut self,
        source: &str,
        series: &DerivSeries,
        time: Timestamp,
        value: f64,
        had: Timestamp,
    ) {
        if series.kind.refuse(value).is_some() || from_the_future(time, had) {
            self.refused += 1;
            return;
        }
        let available_at = series.available_at(time).max(had);
        if series.kind.is_flow() {
            // A bar as sent (a recording's): stored as it is.
            self.ready.push(Ready {
                source: source.to_string(),
                series: series.clone(),
                point: Point {
                    time,
                    value,
                    available_at,
                },
            });
            return;
        }
        if matches!(series.kind, DerivKind::MarkPrice | DerivKind::IndexPrice)
            && let Some(venue) = series.venues.single()
        {
            // Prices come only from the stream: it is alive.
            self.hear(source, had);
            let venue = venue.to_string();
            self.feed(source, &venue, series.market(), had);
        }
        let minute = minute_of(time.millis());
        let sample = Sample {
            minute,
            source: source.to_string(),
            time,
            value,
            had,
        };
        match self.samples.get(series) {
            Some(s) if minute < s.minute => self.late += 1,
            Some(s) if minute == s.minute => {
                if time >= s.time {
                    self.samples.insert(series.clone(), sample);
                }
            }
            Some(_) => {
                let old = self.samples.insert(series.clone(), sample);
                if let Some(old) = old {
                    self.decide(series.clone(), old);
                }
            }
            None => {
                self.samples.insert(series.clone(), sample);
            }
        }
    }

    /// Store a level's sample and record it as an event.
    fn decide(&mut self, series: DerivSeries, s: Sample) {
        self.sampled.push((
            Event::Derivative {
                source: s.source.clone(),
                series: series.clone(),
                time: s.time,
                value: s.value,
            },
            s.had,
        ));
        self.ready.push(Ready {
            source: s.source,
            point: Point {
                time: s.time,
                value: s.value,
                available_at: series.available_at(s.time).max(s.had),
            },
            series,
        });
    }

    /// A liquidation order: binned into its minute (late when that minute is decided).
    pub fn liquidation(
        &mut self,
        source: &str,
        order: &canary_model::derivatives::LiquidationOrder,
        coverage: Option<&str>,
        had: Timestamp,
    ) {
        if let Some(c) = coverage {
            self.coverage
                .entry(source.to_string())
                .or_insert_with(|| c.to_string());
        }
        self.hear(source, had);
        let notional = order.notional();
        if !(notional.is_finite() && notional >= 0.0)
            || DerivKind::LongLiquidationsUsd.refuse(notional).is_some()
            || from_the_future(order.time, had)
        {
            self.refused += 1;
            return;
        }
        let minute = minute_of(order.time.millis());
        let feed = self.feed(source, &order.venue, &order.market, had);
        if minute < feed.next {
            // Kept as an event only: late when its minute was decided, not when it is of the
            // partial minute before the stream was watched.
            if minute >= feed.first {
                self.late += 1;
            }
            return;
        }
        let bin = feed.open.entry(minute).or_insert((0.0, 0.0));
        match order.side {
            LiquidatedSide::Long => bin.0 += notional,
            LiquidatedSide::Short => bin.1 += notional,
        }
    }

    /// A source said it was not watching `[from, to]` (of one market, or all of its markets).
    pub fn unwatched(&mut self, source: &str, market: Option<&str>, from: i64, to: i64) {
        self.unwatched.entry(source.to_string()).or_default().push((
            market.map(str::to_string),
            from,
            to,
        ));
    }

    /// A source's event about itself: a gap, a silence or a reconnection marks the span it
    /// covers as not watched.
    pub fn health(&mut self, e: &Event) {
        match e {
            Event::Gap {
                source,
                symbol,
                from,
                to,
            } => self.unwatched(source, Some(symbol.as_str()), from.millis(), to.millis()),
            Event::Stale {
                source,
                time,
                silent_ms,
            } => self.unwatched(
                source,
                None,
                time.millis().saturating_sub(*silent_ms),
                time.millis(),
            ),
            Event::Reconnected { source, time } => {
                let from = self.heard.get(source).copied().unwrap_or(time.millis());
                self.unwatched(source, None, from, time.millis());
            }
            _ => {}
        }
    }

    /// Decide what the clock at `now` allows, on the values taken so far: level minutes past
    /// their grace, liquidation minutes past theirs and heard after their end.
    pub fn tick(&mut self, now: Timestamp) {
        let now = now.millis();
        let due: Vec<DerivSeries> = self
            .samples
            .iter()
            .filter(|(_, s)| s.minute + MINUTE + LEVEL_GRACE_MS <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in due {
            if let Some(s) = self.samples.remove(&k) {
                self.decide(k, s);
            }
        }
        let keys: Vec<(String, String, String)> = self.feeds.keys().cloned().collect();
        for key in keys {
            let heard = self.heard.get(&key.0).copied().unwrap_or(i64::MIN);
            loop {
                let next = self.feeds[&key].next;
                let end = next + MINUTE;
                if end + BAR_GRACE_MS > now || heard < end {
                    break;
                }
                let bin = self
                    .feeds
                    .get_mut(&key)
                    .and_then(|f| f.open.remove(&next))
                    .unwrap_or((0.0, 0.0));
                let watched = !self.unwatched.get(&key.0).is_some_and(|spans| {
                    spans.iter().any(|(m, from, to)| {
                        m.as_deref().is_none_or(|m| m == key.2) && *from < end && *to >= next
                    })
                });
                if watched {
                    self.bar(&key, next, bin);
                }
                if let Some(f) = self.feeds.get_mut(&key) {
                    f.next = end;
                }
            }
        }
        // Spans every feed of their source has passed.
        for (source, spans) in &mut self.unwatched {
            let oldest = self
                .feeds
                .iter()
                .filter(|(k, _)| &k.0 == source)
                .map(|(_, f)| f.next)
                .min()
                .unwrap_or(i64::MAX);
            spans.retain(|(_, _, to)| *to >= oldest);
        }
    }

    fn bar(&mut self, key: &(String, String, String), open: i64, bin: (f64, f64)) {
        let (source, venue, market) = key;
        let Ok(venues) = Venues::one(venue) else {
            self.refused += 1;
            return;
        };
        let Ok(long) =
            DerivSeries::new(DerivKind::LongLiquidationsUsd, market, venues, Interval::M1)
        else {
            self.refused += 1;
            return;
        };
        let short = long.with_kind(DerivKind::ShortLiquidationsUsd);
        // Each order is within bounds; a minute's sum may not be (and would be refused by the
        // store with the rest of the write).
        if [bin.0, bin.1]
            .iter()
            .any(|v| DerivKind::LongLiquidationsUsd.refuse(*v).is_some())
        {
            self.refused += 1;
            return;
        }
        let bar_source = self.bar_source(source);
        let time = Timestamp::from_millis(open);
        let available_at = Timestamp::from_millis(open + MINUTE + BAR_GRACE_MS);
        for (series, value) in [(long, bin.0), (short, bin.1)] {
            self.ready.push(Ready {
                source: bar_source.clone(),
                series,
                point: Point {
                    time,
                    value,
                    available_at,
                },
            });
        }
        if bin.0 + bin.1 > 0.0 {
            self.bars.push(Bar {
                source: source.clone(),
                venue: venue.clone(),
                market: market.clone(),
                open_time: time,
                long_usd: bin.0,
                short_usd: bin.1,
            });
        }
    }

    /// The run ends: every level's last sample is decided (liquidation minutes not decided
    /// were not watched to their end, and are not stored).
    pub fn finish(&mut self) {
        for (k, s) in std::mem::take(&mut self.samples) {
            self.decide(k, s);
        }
    }
}

/// How far past the time Canary had it a venue's timestamp may be (clocks differ by
/// milliseconds; a minute more is a wrong clock or a wrong unit).
const FUTURE_TOLERANCE_MS: i64 = 60_000;

/// Whether a venue's time is after the time Canary had the value by more than the tolerance:
/// taken as it is, it would hold its series' sample (and drop every later value as late)
/// until that time.
fn from_the_future(time: Timestamp, had: Timestamp) -> bool {
    time.millis() > had.millis().saturating_add(FUTURE_TOLERANCE_MS)
}

impl Engine {
    /// Store the derivatives values decided, one write per source (each value once: the last
    /// given for a series and time).
    pub(super) fn store_derivatives(&mut self, now: Timestamp) -> Result<(), EngineError> {
        let mut by_source: BTreeMap<String, BTreeMap<DerivSeries, BTreeMap<Timestamp, Point>>> =
            BTreeMap::new();
        for r in self.derivatives.ready.drain(..) {
            by_source
                .entry(r.source)
                .or_default()
                .entry(r.series)
                .or_default()
                .insert(r.point.time, r.point);
        }
        for (source, series) in by_source {
            let points: Vec<(DerivSeries, Vec<Point>)> = series
                .into_iter()
                .map(|(s, p)| (s, p.into_values().collect()))
                .collect();
            let refs: Vec<(&DerivSeries, &[Point])> =
                points.iter().map(|(s, p)| (s, p.as_slice())).collect();
            let kind = self
                .settings
                .source_kinds
                .get(&source)
                .copied()
                .unwrap_or(SourceKind::Real);
            let r = self.store.insert_derivatives(
                &refs,
                Source {
                    name: &source,
                    kind,
                },
                now,
                Revisions::Keep,
            )?;
            self.summary.derivatives += (r.inserted + r.revised) as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::Duration;

    use canary_ingest::bus::Publish;
    use canary_model::derivatives::{LiquidatedSide, LiquidationOrder};
    use canary_model::{Symbol, Timestamp};

    use super::super::{Engine, EngineSettings, Event, Output, Stamped, Summary};
    use crate::ReplayClock;

    const NOTE: &str = "at most one liquidation order per symbol per second";

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(&format!("2026-02-05T{s}Z")).unwrap()
    }

    fn level(key: &str, at: &str, value: f64, had: &str) -> Stamped {
        Stamped {
            event: Event::Derivative {
                source: "binance-futures".into(),
                series: key.parse().unwrap(),
                time: t(at),
                value,
            },
            available_at: t(had),
        }
    }

    fn mark(at: &str, value: f64) -> Stamped {
        // Had 100 ms after its time, as a stream delivers.
        let had = Timestamp::from_millis(t(at).millis() + 100);
        Stamped {
            available_at: had,
            ..level("mark_price:BTCUSDT:binance:1m", at, value, at)
        }
    }

    fn liquidation(at: &str, side: LiquidatedSide, price: f64, qty: f64, had: &str) -> Stamped {
        Stamped {
            event: Event::Liquidation {
                source: "binance-futures".into(),
                order: LiquidationOrder {
                    venue: "binance".into(),
                    market: "BTCUSDT".into(),
                    time: t(at),
                    side,
                    price,
                    qty,
                },
                coverage: Some(NOTE.into()),
            },
            available_at: t(had),
        }
    }

    /// Run events through an engine on a replay clock into `db`.
    fn run(db: &std::path::Path, input: Vec<Stamped>) -> (Summary, Vec<Output>) {
        let settings = EngineSettings {
            session: canary_engine::Session::new(db)
                .with_clock(Arc::new(ReplayClock::starting(t("20:00:00")))),
            markets: Vec::new(),
            source_kinds: BTreeMap::new(),
            crosschecks: Vec::new(),
            alerts: None,
            system: None,
            flush_every: Duration::from_secs(1),
        };
        let engine = Engine::new(settings).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (tx, rx) = canary_ingest::bus::in_process(16);
            let (otx, mut orx) = tokio::sync::mpsc::channel(1024);
            let feeder = tokio::spawn(async move {
                for s in input {
                    tx.publish(s).await.unwrap();
                }
            });
            let summary = engine.run(rx, Some(otx)).await.unwrap();
            feeder.await.unwrap();
            let mut outputs = Vec::new();
            while let Some(o) = orx.recv().await {
                outputs.push(o);
            }
            (summary, outputs)
        })
    }

    fn input() -> Vec<Stamped> {
        let mut v = vec![
            mark("20:00:10", 64_000.0),
            mark("20:00:50", 64_010.0),
            // The minute the stream was first heard in: not watched whole, not binned.
            liquidation(
                "20:00:55",
                LiquidatedSide::Long,
                64_000.0,
                9.0,
                "20:00:55.1",
            ),
            // The 5-minute history and a settlement, back-filled.
            level(
                "oi_base:BTCUSDT:binance:5m",
                "19:55:00",
                80_100.0,
                "20:01:00",
            ),
            level(
                "oi_base:BTCUSDT:binance:5m",
                "20:00:00",
                80_200.0,
                "20:01:00",
            ),
            level(
                "funding_rate:BTCUSDT:binance:8h",
                "16:00:00",
                0.0001,
                "20:01:00",
            ),
            mark("20:01:05", 64_020.0),
            liquidation(
                "20:01:20",
                LiquidatedSide::Long,
                64_000.0,
                0.5,
                "20:01:20.1",
            ),
            liquidation(
                "20:01:30",
                LiquidatedSide::Short,
                64_100.0,
                0.1,
                "20:01:30.1",
            ),
            liquidation(
                "20:01:31",
                LiquidatedSide::Long,
                64_000.0,
                0.25,
                "20:01:31.1",
            ),
            // A value no venue can mean: dropped, counted.
            mark("20:01:40", -1.0),
        ];
        for m in 2..=6 {
            for s in [1, 21, 41] {
                v.push(mark(
                    &format!("20:0{m}:{s:02}"),
                    64_000.0 + f64::from(m * 100 + s),
                ));
            }
        }
        // The stream missed 20:03:10 to 20:03:40 (said on reconnection).
        v.push(Stamped {
            event: Event::Gap {
                source: "binance-futures".into(),
                symbol: Symbol::new("BTCUSDT").unwrap(),
                from: t("20:03:10"),
                to: t("20:03:40"),
            },
            available_at: t("20:03:40"),
        });
        // An order of a minute already decided: late.
        v.push(liquidation(
            "20:01:50",
            LiquidatedSide::Short,
            64_000.0,
            1.0,
            "20:04:30",
        ));
        v.sort_by_key(|s| s.available_at);
        v
    }

    /// Levels land one a minute (the last of each), available when Canary had them;
    /// liquidations land as 1-minute bars of each side, available when decided, 0 when
    /// watched without orders, absent when not watched, under a source that says what the
    /// stream leaves out; a replay of the recorded events stores the same values.
    #[test]
    fn a_clock_far_ahead_or_a_minute_too_large_is_refused_and_the_run_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.db");
        let mut input = vec![
            mark("20:00:10", 64_000.0),
            // A mark stamped a day ahead: refused, not holding the series until then.
            Stamped {
                available_at: t("20:00:20"),
                ..level("mark_price:BTCUSDT:binance:1m", "20:00:20", 1.0, "20:00:20")
            },
        ];
        if let Event::Derivative { time, .. } = &mut input[1].event {
            *time = time.add_millis(86_400_000);
        }
        // Two orders within bounds whose minute is not: 2 × 9e14 USD.
        input.push(liquidation(
            "20:01:01",
            LiquidatedSide::Long,
            9e3,
            1e11,
            "20:01:01",
        ));
        input.push(liquidation(
            "20:01:02",
            LiquidatedSide::Long,
            9e3,
            1e11,
            "20:01:02",
        ));
        for m in 2..6 {
            input.push(mark(&format!("20:0{m}:10"), 64_000.0 + f64::from(m)));
        }
        let (summary, _) = run(&db, input);
        assert_eq!(summary.refused_derivatives, 2, "{summary:?}");
        let store = canary_store::open(&db).unwrap();
        let marks = store
            .derivatives(&"mark_price:BTCUSDT:binance:1m".parse().unwrap(), None)
            .unwrap();
        assert!(marks.len() >= 5, "later marks still stored: {marks:?}");
        assert!(marks.iter().all(|(_, v)| *v >= 64_000.0));
    }

    #[test]
    fn derivatives_land_in_the_store_as_of_the_right_times() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.db");
        let (summary, outputs) = run(&db, input());
        assert_eq!(summary.refused_derivatives, 1);
        assert_eq!(summary.late_input, 1, "the order of a decided minute");
        let store = canary_store::open(&db).unwrap();
        let at = |key: &str, asof: Option<&str>| {
            store
                .derivatives(&key.parse().unwrap(), asof.map(t))
                .unwrap()
                .into_iter()
                .map(|(time, v)| (time.to_string()[11..19].to_string(), v))
                .collect::<Vec<_>>()
        };
        let row = |time: &str, v: f64| (time.to_string(), v);
        // The last mark of each minute, at its own time.
        let marks = at("mark_price:BTCUSDT:binance:1m", None);
        assert_eq!(
            marks[..3],
            [
                row("20:00:50", 64_010.0),
                row("20:01:05", 64_020.0),
                row("20:02:41", 64_241.0)
            ]
        );
        assert_eq!(marks.len(), 7, "20:00 to 20:06: {marks:?}");
        // Known from when it was had, 100 ms after its time.
        assert!(at("mark_price:BTCUSDT:binance:1m", Some("20:00:50.05")).is_empty());
        assert_eq!(
            at("mark_price:BTCUSDT:binance:1m", Some("20:00:50.1")).len(),
            1
        );
        // Back-filled values at their own times, known from when they were fetched.
        assert!(at("oi_base:BTCUSDT:binance:5m", Some("20:00:59")).is_empty());
        assert_eq!(
            at("oi_base:BTCUSDT:binance:5m", Some("20:01:00")),
            [row("19:55:00", 80_100.0), row("20:00:00", 80_200.0)]
        );
        assert_eq!(
            at("funding_rate:BTCUSDT:binance:8h", None),
            [row("16:00:00", 0.0001)]
        );
        // Liquidation bars: 20:01 (orders), 20:02 (watched, none), 20:03 missing (the gap),
        // 20:04 watched; 20:05 was not decided when the run ended (its grace runs to 20:07).
        let longs = at("long_liquidations_usd:BTCUSDT:binance:1m", None);
        let shorts = at("short_liquidations_usd:BTCUSDT:binance:1m", None);
        assert_eq!(
            longs,
            [
                row("20:01:00", 48_000.0),
                row("20:02:00", 0.0),
                row("20:04:00", 0.0)
            ]
        );
        assert_eq!(shorts[0], row("20:01:00", 6_410.0));
        assert_eq!(shorts.len(), 3);
        // A bar is known a minute after its close, when it is decided.
        assert!(
            at(
                "long_liquidations_usd:BTCUSDT:binance:1m",
                Some("20:02:59.999")
            )
            .is_empty()
        );
        assert_eq!(
            at("long_liquidations_usd:BTCUSDT:binance:1m", Some("20:03:00")).len(),
            1
        );
        // The bars' source says what Binance's stream leaves out; the levels' is the source.
        let series = store.derivative_series(None).unwrap();
        let sources = |key: &str| {
            series
                .iter()
                .find(|i| i.series.to_string() == key)
                .map(|i| i.sources.clone())
                .unwrap()
        };
        assert_eq!(
            sources("long_liquidations_usd:BTCUSDT:binance:1m"),
            [format!("binance-futures ({NOTE})")]
        );
        assert_eq!(
            sources("mark_price:BTCUSDT:binance:1m"),
            ["binance-futures"]
        );
        // One output for the minute with orders.
        let bars: Vec<_> = outputs
            .iter()
            .filter_map(|o| match o {
                Output::Liquidations {
                    open_time,
                    long_usd,
                    short_usd,
                    ..
                } => Some((open_time.to_string(), *long_usd, *short_usd)),
                _ => None,
            })
            .collect();
        assert_eq!(
            bars,
            [("2026-02-05T20:01:00Z".to_string(), 48_000.0, 6_410.0)]
        );
        // Recorded: every liquidation and the gap, and only the levels stored.
        let recorded = store
            .events(Timestamp::from_millis(0), Timestamp::from_millis(i64::MAX))
            .unwrap();
        let kinds = |k: &str| recorded.iter().filter(|e| e.kind == k).count();
        assert_eq!(kinds("liquidation"), 5);
        assert_eq!(kinds("gap"), 1);
        assert_eq!(kinds("derivative"), 7 + 2 + 1);

        // The recording replayed into another database stores the same values.
        let mut replayed = crate::sources::parse_stored(&recorded).unwrap();
        replayed.sort_by_key(|s| s.available_at);
        let db2 = dir.path().join("replay.db");
        run(&db2, replayed);
        let again = canary_store::open(&db2).unwrap();
        for i in &series {
            for asof in [None, Some(t("20:03:30")), Some(t("20:05:30"))] {
                assert_eq!(
                    again.derivatives(&i.series, asof).unwrap(),
                    store.derivatives(&i.series, asof).unwrap(),
                    "{} as of {asof:?}",
                    i.series
                );
            }
        }
    }
}
