//! What the live engine takes in: market events from sources, each stamped with the time
//! Canary had it.

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
}
