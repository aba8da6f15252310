//! What the live engine takes in: market events from sources, each stamped with the time
//! Canary had it; and each event's identity (its source, kind, own time, [`content`] and
//! occurrence, counted by [`Occurrences`]), by which it is stored once and published once.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::derivatives::{DerivSeries, LiquidationOrder};
use crate::{Candle, Symbol, Timeframe, Timestamp};

/// What the engine takes in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// One trade.
    Trade {
        source: String,
        symbol: Symbol,
        time: Timestamp,
        price: f64,
        qty: f64,
    },
    /// A closed bar (an exchange's final kline, a bar file, the simulator).
    Bar {
        source: String,
        symbol: Symbol,
        timeframe: Timeframe,
        candle: Candle,
    },
    /// A derivatives value as a venue reported it: a level (a mark or index price, open
    /// interest, a predicted or settled funding rate) observed at `time`, in the series it
    /// belongs to (whose interval says how the runtime samples or bins it).
    Derivative {
        source: String,
        series: DerivSeries,
        time: Timestamp,
        value: f64,
    },
    /// One liquidation order as a venue reported it (the runtime sums them into bars).
    Liquidation {
        source: String,
        order: LiquidationOrder,
        /// What the venue's stream leaves out, when it leaves something out (Binance sends at
        /// most one order per symbol per second: an undercount in a cascade), carried with
        /// every order so that the data says it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        coverage: Option<String>,
    },
    /// A source knows it missed data over `[from, to)` (filled by backfill when it can).
    Gap {
        source: String,
        symbol: Symbol,
        from: Timestamp,
        to: Timestamp,
    },
    /// A source's connection came back.
    Reconnected { source: String, time: Timestamp },
    /// A source has been silent longer than it should.
    Stale {
        source: String,
        time: Timestamp,
        silent_ms: i64,
    },
    /// A message a source could not read (kept with its payload, then skipped).
    Malformed {
        source: String,
        time: Timestamp,
        payload: String,
        error: String,
    },
}

impl Event {
    /// The source that sent it.
    #[must_use]
    pub fn source(&self) -> &str {
        match self {
            Self::Trade { source, .. }
            | Self::Bar { source, .. }
            | Self::Derivative { source, .. }
            | Self::Liquidation { source, .. }
            | Self::Gap { source, .. }
            | Self::Reconnected { source, .. }
            | Self::Stale { source, .. }
            | Self::Malformed { source, .. } => source,
        }
    }

    /// Its kind, as stored.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Trade { .. } => "trade",
            Self::Bar { .. } => "bar",
            Self::Derivative { .. } => "derivative",
            Self::Liquidation { .. } => "liquidation",
            Self::Gap { .. } => "gap",
            Self::Reconnected { .. } => "reconnected",
            Self::Stale { .. } => "stale",
            Self::Malformed { .. } => "malformed",
        }
    }

    /// The symbol it is about, if one (a derivatives value or a liquidation names its market
    /// instead).
    #[must_use]
    pub fn symbol(&self) -> Option<&Symbol> {
        match self {
            Self::Trade { symbol, .. } | Self::Bar { symbol, .. } | Self::Gap { symbol, .. } => {
                Some(symbol)
            }
            _ => None,
        }
    }

    /// Its own time (a trade's, a bar's close, a derivatives value's, a liquidation's, a gap's
    /// start).
    #[must_use]
    pub fn time(&self) -> Timestamp {
        match self {
            Self::Liquidation { order, .. } => order.time,
            Self::Trade { time, .. }
            | Self::Derivative { time, .. }
            | Self::Reconnected { time, .. }
            | Self::Stale { time, .. }
            | Self::Malformed { time, .. } => *time,
            Self::Bar {
                timeframe, candle, ..
            } => timeframe.close_of(candle.open_time),
            Self::Gap { from, .. } => *from,
        }
    }
}

/// An event and when Canary had it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamped {
    pub event: Event,
    pub available_at: Timestamp,
}

/// The hash of an event's payload in its identity: 64-bit FNV-1a of its JSON, a fixed
/// function, so that a payload stored or published by one build is recognised by the next.
#[must_use]
pub fn content(payload: &str) -> i64 {
    crate::fnv1a(payload.as_bytes()).cast_signed()
}

/// The occurrence of each event in its source's stream, which its stored identity ends with
/// (`canary_store::NewEvent::occurrence`, a bus message's id): how many events of the same content the source
/// sent before it at the same time. Equal content means an equal own time, and a source sends
/// each symbol's events in time order, so equal events come together: the events of each
/// source's (and symbol's) latest time are counted, and the count starts again when that time
/// moves on. Two equal trades of one millisecond are thus 0 and 1, in this run and in any run
/// of the same input, so that a run given its input again (a restart, a bar file run twice, a
/// replay) stores nothing twice; the same content again after the time has moved on is a
/// repeat. Contents are counted by their hash ([`content`]): two contents
/// of one hash would only number the second 1, still stored.
#[derive(Debug, Default)]
pub struct Occurrences(HashMap<String, HashMap<String, Latest>>);

/// The events of a source's symbol at its latest time: how many of each content.
#[derive(Debug)]
struct Latest {
    time: Timestamp,
    seen: HashMap<i64, u32>,
}

impl Occurrences {
    /// The occurrence of `e`, whose JSON is `payload`, counting it.
    pub fn next(&mut self, e: &Event, payload: &str) -> u32 {
        let symbol = e.symbol().map_or("", Symbol::as_str);
        if !self
            .0
            .get(e.source())
            .is_some_and(|m| m.contains_key(symbol))
        {
            self.0.entry(e.source().to_string()).or_default().insert(
                symbol.to_string(),
                Latest {
                    time: e.time(),
                    seen: HashMap::new(),
                },
            );
        }
        let latest = self
            .0
            .get_mut(e.source())
            .and_then(|m| m.get_mut(symbol))
            .expect("inserted above");
        if latest.time != e.time() {
            latest.time = e.time();
            latest.seen.clear();
        }
        let n = latest.seen.entry(content(payload)).or_insert(0);
        *n += 1;
        *n - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derivatives::LiquidatedSide;

    /// The derivatives events go through JSON (as stored, and replayed) unchanged.
    #[test]
    fn derivatives_events_round_trip_through_json() {
        let t = Timestamp::parse("2026-02-05T20:00:01Z").unwrap();
        for e in [
            Event::Derivative {
                source: "bybit".into(),
                series: "mark_price:BTCUSDT:bybit:1m".parse().unwrap(),
                time: t,
                value: 64_045.13,
            },
            Event::Liquidation {
                source: "binance-futures".into(),
                order: LiquidationOrder {
                    venue: "binance".into(),
                    market: "BTCUSDT".into(),
                    time: t,
                    side: LiquidatedSide::Long,
                    price: 26_245.1,
                    qty: 0.115,
                },
                coverage: Some("at most one order per symbol per second".into()),
            },
        ] {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e, "{json}");
            assert_eq!(e.time(), t);
            assert!(e.symbol().is_none());
        }
        let json = r#"{"kind":"liquidation","source":"bybit","order":{"venue":"bybit","market":"BTCUSDT","time":"2026-02-05T20:00:01Z","side":"short","price":1.0,"qty":2.0}}"#;
        let e: Event = serde_json::from_str(json).unwrap();
        assert_eq!(e.kind(), "liquidation");
        assert!(matches!(e, Event::Liquidation { coverage: None, .. }));
    }

    fn trade(source: &str, symbol: &str, time: &str, price: f64) -> (Event, String) {
        let e = Event::Trade {
            source: source.into(),
            symbol: Symbol::new(symbol).unwrap(),
            time: Timestamp::parse(time).unwrap(),
            price,
            qty: 1.0,
        };
        let payload = serde_json::to_string(&e).unwrap();
        (e, payload)
    }

    /// Equal events of one time count 0, 1, …; the count starts again when the time moves on,
    /// and each source's symbol counts apart.
    #[test]
    fn equal_events_of_one_time_are_numbered() {
        let mut o = Occurrences::default();
        let mut next = |x: (Event, String)| o.next(&x.0, &x.1);
        let t0 = "2026-02-05T10:00:00Z";
        assert_eq!(next(trade("binance", "BTCUSDT", t0, 1.0)), 0);
        assert_eq!(next(trade("binance", "BTCUSDT", t0, 1.0)), 1);
        assert_eq!(next(trade("binance", "BTCUSDT", t0, 2.0)), 0);
        assert_eq!(next(trade("binance", "BTCUSDT", t0, 1.0)), 2);
        assert_eq!(next(trade("coinbase", "BTCUSDT", t0, 1.0)), 0);
        assert_eq!(next(trade("binance", "ETHUSDT", t0, 1.0)), 0);
        let t1 = "2026-02-05T10:00:01Z";
        assert_eq!(next(trade("binance", "BTCUSDT", t1, 1.0)), 0);
        // Back at the first time: a repeat, numbered afresh.
        assert_eq!(next(trade("binance", "BTCUSDT", t0, 1.0)), 0);
    }
}
