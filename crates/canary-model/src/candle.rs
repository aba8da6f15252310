//! [`Candle`]: one OHLCV bar whose invariants hold by construction.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// One OHLCV bar, keyed by its open time. `volume` is in the base asset (BTC of BTCUSDT),
/// `quote_volume` in the quote asset when the source has it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawCandle")]
pub struct Candle {
    pub open_time: Timestamp,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
    pub quote_volume: Option<f64>,
    pub trades: Option<u64>,
}

/// The candle field an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandleField {
    Open,
    High,
    Low,
    Close,
    Volume,
    QuoteVolume,
}

impl CandleField {
    /// The field's name as used in files and messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            CandleField::Open => "open",
            CandleField::High => "high",
            CandleField::Low => "low",
            CandleField::Close => "close",
            CandleField::Volume => "volume",
            CandleField::QuoteVolume => "quote_volume",
        }
    }
}

/// Why a bar is invalid; displays as `field: reason`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {reason}", field.name())]
pub struct CandleError {
    pub field: CandleField,
    pub reason: String,
}

/// A candle as read from JSON, validated by [`Candle::new`] before it becomes one.
#[derive(Deserialize)]
struct RawCandle {
    open_time: Timestamp,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
    quote_volume: Option<f64>,
    trades: Option<u64>,
}

impl TryFrom<RawCandle> for Candle {
    type Error = String;
    fn try_from(r: RawCandle) -> Result<Self, String> {
        Candle::new(
            r.open_time,
            r.open,
            r.high,
            r.low,
            r.close,
            r.volume,
            r.quote_volume,
            r.trades,
        )
        .map_err(|e| format!("{:?}: {}", e.field, e.reason))
    }
}

impl Candle {
    /// A validated candle: finite prices above zero, high ≥ max(open, close), low ≤ min(open,
    /// close), finite non-negative volumes.
    ///
    /// # Errors
    /// The first violated rule, naming the field.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        open_time: Timestamp,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
        volume: f64,
        quote_volume: Option<f64>,
        trades: Option<u64>,
    ) -> Result<Self, CandleError> {
        let err = |field, reason: String| Err(CandleError { field, reason });
        for (field, v) in [
            (CandleField::Open, open),
            (CandleField::High, high),
            (CandleField::Low, low),
            (CandleField::Close, close),
        ] {
            if !v.is_finite() {
                return err(field, format!("{v} is not a finite number"));
            }
            if v <= 0.0 {
                return err(field, format!("{v} is not a positive price"));
            }
        }
        if high < open.max(close) {
            return err(
                CandleField::High,
                format!("high {high} is below max(open {open}, close {close})"),
            );
        }
        if low > open.min(close) {
            return err(
                CandleField::Low,
                format!("low {low} is above min(open {open}, close {close})"),
            );
        }
        for (field, v) in [
            (CandleField::Volume, Some(volume)),
            (CandleField::QuoteVolume, quote_volume),
        ] {
            if let Some(v) = v
                && (!v.is_finite() || v < 0.0)
            {
                return err(field, format!("{v} is not a finite volume ≥ 0"));
            }
        }
        Ok(Candle {
            open_time,
            open,
            high,
            low,
            close,
            volume,
            quote_volume,
            trades,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_inconsistent_bars_naming_the_field() {
        let t = Timestamp::EPOCH;
        assert!(Candle::new(t, 10.0, 11.0, 9.0, 10.5, 1.0, None, None).is_ok());
        let e = Candle::new(t, 10.0, 9.5, 9.0, 10.5, 1.0, None, None).unwrap_err();
        assert_eq!(e.field, CandleField::High);
        assert!(e.to_string().starts_with("high: "));
        let e = Candle::new(t, 10.0, 11.0, 10.2, 10.5, 1.0, None, None).unwrap_err();
        assert_eq!(e.field, CandleField::Low);
        let e = Candle::new(t, 10.0, 11.0, 9.0, 10.5, -1.0, None, None).unwrap_err();
        assert_eq!(e.field, CandleField::Volume);
        let e = Candle::new(t, f64::NAN, 11.0, 9.0, 10.5, 1.0, None, None).unwrap_err();
        assert_eq!(e.field, CandleField::Open);
    }
}
