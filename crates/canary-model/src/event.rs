//! What the live engine takes in: market events from sources, each stamped with the time
//! Canary had it.

use serde::{Deserialize, Serialize};

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
            Self::Gap { .. } => "gap",
            Self::Reconnected { .. } => "reconnected",
            Self::Stale { .. } => "stale",
            Self::Malformed { .. } => "malformed",
        }
    }

    /// The symbol it is about, if one.
    #[must_use]
    pub fn symbol(&self) -> Option<&Symbol> {
        match self {
            Self::Trade { symbol, .. } | Self::Bar { symbol, .. } | Self::Gap { symbol, .. } => {
                Some(symbol)
            }
            _ => None,
        }
    }

    /// Its own time (a trade's, a bar's close, a gap's start).
    #[must_use]
    pub fn time(&self) -> Timestamp {
        match self {
            Self::Trade { time, .. }
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
