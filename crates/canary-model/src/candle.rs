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
    Trades,
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
            CandleField::Trades => "trades",
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

/// The bounds every bar's numbers must lie within, so that what the analytics do with them
/// stays finite. An `f64` overflows past 1.8e308. With prices in [`MIN_PRICE`, `MAX_PRICE`]
/// and volumes at most [`MAX_VOLUME`]: a ratio of two prices is at most 1e24, a price times a
/// volume at most 1e30, its square 1e60, and a sum of squares over a billion bars 1e69 — every
/// sum, variance, VWAP, profile and product the analytics form stays hundreds of orders of
/// magnitude below overflow, and a resampled weekly bar (10,080 one-minute volumes summed) is
/// still finite. The bounds are far outside anything a market quotes: a trillion quote units
/// for one unit of the base (BTC trades near 1e5 USD), a trillionth for the smallest
/// (memecoins quoted in BTC sit near 1e-10), a quintillion base units traded in one bar (the
/// largest memecoin supplies are near 1e15). A value beyond them is a broken file (a unit
/// mix-up, a corrupted export) or an attack, and is refused at import rather than stored.
pub const MAX_PRICE: f64 = 1e12;
/// The smallest price accepted; see [`MAX_PRICE`].
pub const MIN_PRICE: f64 = 1e-12;
/// The largest volume (base or quote) accepted in one bar; see [`MAX_PRICE`].
pub const MAX_VOLUME: f64 = 1e18;
/// The largest trade count accepted in one bar: sums of them over any resampled bucket stay
/// far below `u64::MAX` (1.8e19).
pub const MAX_TRADES: u64 = 1_000_000_000_000_000;

/// A number as an error shows it: in scientific notation when very large or very small
/// (`1e307`, not 308 digits).
pub(crate) fn shown(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-6..1e15).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
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
    /// The same bar through the constructor's checks: a bar assembled field by field (a
    /// resampled bucket, a row read back from storage) may not hold them.
    ///
    /// # Errors
    /// The first violated rule, naming the field.
    pub fn checked(&self) -> Result<Candle, CandleError> {
        Candle::new(
            self.open_time,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.quote_volume,
            self.trades,
        )
    }

    /// A validated candle: finite prices from [`MIN_PRICE`] to [`MAX_PRICE`], high ≥ max(open,
    /// close), low ≤ min(open, close), volumes from 0 to [`MAX_VOLUME`], at most
    /// [`MAX_TRADES`] trades.
    ///
    /// # Errors
    /// The first violated rule, naming the field.
    #[expect(clippy::too_many_arguments)]
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
            let v_ = shown(v);
            if !v.is_finite() {
                return err(field, format!("{v_} is not a finite number"));
            }
            if v <= 0.0 {
                return err(field, format!("{v_} is not a positive price"));
            }
            if v > MAX_PRICE {
                return err(
                    field,
                    format!(
                        "{v_} is above {MAX_PRICE:e}, the largest price accepted (larger values would overflow the analytics: check the file's units)"
                    ),
                );
            }
            if v < MIN_PRICE {
                return err(
                    field,
                    format!(
                        "{v_} is below {MIN_PRICE:e}, the smallest price accepted (check the file's units)"
                    ),
                );
            }
        }
        if high < open.max(close) {
            return err(
                CandleField::High,
                format!(
                    "high {} is below max(open {}, close {})",
                    shown(high),
                    shown(open),
                    shown(close)
                ),
            );
        }
        if low > open.min(close) {
            return err(
                CandleField::Low,
                format!(
                    "low {} is above min(open {}, close {})",
                    shown(low),
                    shown(open),
                    shown(close)
                ),
            );
        }
        for (field, v) in [
            (CandleField::Volume, Some(volume)),
            (CandleField::QuoteVolume, quote_volume),
        ] {
            if let Some(v) = v
                && (!v.is_finite() || v < 0.0)
            {
                return err(field, format!("{} is not a finite volume ≥ 0", shown(v)));
            }
            if let Some(v) = v
                && v > MAX_VOLUME
            {
                return err(
                    field,
                    format!(
                        "{} is above {MAX_VOLUME:e}, the largest volume accepted in one bar (larger values would overflow the analytics: check the file's units)",
                        shown(v)
                    ),
                );
            }
        }
        if let Some(n) = trades
            && n > MAX_TRADES
        {
            return err(
                CandleField::Trades,
                format!("{n} is above {MAX_TRADES}, the most trades accepted in one bar"),
            );
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

    /// Issue 19, item 8: a price of 1e307 was accepted and made the analytics panic later.
    #[test]
    fn huge_values_are_refused_with_the_bound_in_the_error() {
        let t = Timestamp::EPOCH;
        let e = Candle::new(t, 1e307, 1e307, 1e307, 1e307, 1.0, None, None).unwrap_err();
        assert_eq!(e.field, CandleField::Open);
        assert!(e.to_string().contains("above 1e12"), "{e}");
        let e = Candle::new(t, 1e-300, 1.0, 1e-300, 1.0, 1.0, None, None).unwrap_err();
        assert!(e.to_string().contains("below 1e-12"), "{e}");
        let e = Candle::new(t, 1.0, 1.0, 1.0, 1.0, 1e308, None, None).unwrap_err();
        assert_eq!(e.field, CandleField::Volume);
        assert!(e.to_string().contains("above 1e18"), "{e}");
        let e = Candle::new(t, 1.0, 1.0, 1.0, 1.0, 1.0, Some(1e300), None).unwrap_err();
        assert_eq!(e.field, CandleField::QuoteVolume);
        let e = Candle::new(t, 1.0, 1.0, 1.0, 1.0, 1.0, None, Some(u64::MAX)).unwrap_err();
        assert_eq!(e.field, CandleField::Trades);
        // The bounds themselves are accepted.
        assert!(
            Candle::new(
                t,
                MAX_PRICE,
                MAX_PRICE,
                MIN_PRICE,
                MIN_PRICE,
                MAX_VOLUME,
                Some(MAX_VOLUME),
                Some(MAX_TRADES)
            )
            .is_ok()
        );
    }
}
