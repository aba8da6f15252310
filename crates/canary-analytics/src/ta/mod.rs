//! Technical indicators, equal to TA-Lib 0.8 (C core 0.8.1, default settings).
//!
//! Every indicator comes in two forms:
//!
//! - **streaming**: a struct implementing [`Indicator`] (`update` one input, `value`, `reset`).
//!   An update is O(1) and allocates nothing (windows are allocated once, at construction);
//!   [`Cci`] alone is O(n) per update in its period n, because its mean absolute deviation is
//!   taken around the newest mean.
//! - **batch**: a function over slices writing into a caller-provided buffer of the same
//!   length, `NaN` in the lookback prefix (where TA-Lib has no value).
//!
//! A property test checks that both forms agree on arbitrary series, and `tests/oracle.rs`
//! checks both files of `../shared/oracle` at relative 1e-9.
//!
//! # Conventions (what an exact TA-Lib match needs)
//!
//! | indicator | seeding | first value at index |
//! |---|---|---|
//! | SMA, WMA (weights 1…n, newest heaviest), STDDEV (population σ; anchored running sums, see `bbands.rs`) | — | n−1 |
//! | EMA (k = 2/(n+1)) | simple mean of the first n values | n−1 |
//! | RSI, ATR, NATR (ATR/close·100) | Wilder: mean of the first n moves / true ranges | n |
//! | TRANGE | needs the previous close | 1 |
//! | MACD(f, s, g) | both EMAs start at index s−1, the fast one seeded from bars s−f … s−1; signal seeded from the first g MACD values | s+g−2 |
//! | BBANDS(n, k) | middle = SMA n, ± k population σ | n−1 |
//! | ROC n = (c/c₋ₙ − 1)·100 | — | n |
//! | +DI, −DI | Wilder sums seeded with the plain sums over indices 1…n−1, then s ← s − s/n + x | n |
//! | ADX | mean of DX over indices n…2n−1, then Wilder | 2n−1 |
//! | STOCH(k, sk, sd), SMA smoothing | fast %K over k bars (0 when the range is 0) | k+sk+sd−3 |
//! | WILLR, CCI (0.015 · mean absolute deviation) | — | n−1 |
//! | MFI (0 when the money flow total is below 1) | — | n |
//! | OBV | the first bar's volume | 0 |
//!
//! Recurrences are written for speed rather than copied from TA-Lib's source: an EMA step is
//! prev·(1−k) + x·k, a Wilder step s·(n−1)/n + x/n, so no division and a short dependency chain
//! per bar; the values agree with TA-Lib's to a few ulps, far inside the oracle tolerance.
//!
//! RSI of a flat series is 0 (TA-Lib's convention), not 50. TA-Lib treats values within 1e-8 of
//! zero as zero in several divisions (RSI, DI, NATR); so do we.
//!
//! Beyond TA-Lib, [`risk`] has the series Canary's risk views need: realised volatility,
//! drawdown from the running high, log return over n bars, and the latest return in σ units.
//! [`watch`] computes the whole "watch set" in one fused pass.

mod bbands;
pub mod bench_set;
mod cci;
mod dmi;
mod ln;
mod ma;
mod macd;
mod momentum;
mod range;
pub mod risk;
mod simd;
mod spec;
mod stoch;
mod volume;
pub mod watch;
mod window;

pub use bbands::{Bbands, BbandsValue, Stddev, bbands, stddev};
pub use cci::{Cci, cci};
pub use dmi::{Adx, Dmi, DmiValue, adx, minus_di, plus_di};
pub use ma::{Ema, SMA, Sma, Wma, ema, sma, wma};
pub use macd::{Macd, MacdValue, macd};
pub use momentum::{RSI_WILDER, Roc, Rsi, roc, rsi};
pub use range::{ATR_WILDER, Atr, Natr, TrueRange, atr, natr, trange};
pub use risk::{
    DRAWDOWN, Drawdown, LogReturn, REALIZED_VOL, RETURN_Z, RealizedVol, ReturnZ, drawdown,
    log_return, realized_vol, return_z,
};
pub use spec::{INDICATOR, IndicatorSpec, Ohlcv, SpecError};
pub use stoch::{Stoch, StochValue, WillR, stoch, willr};
pub use volume::{Mfi, Obv, mfi, obv};
pub use watch::{
    STREAM_FROM, Simd, TIER_BARS, WatchPath, WatchSet, WatchSetBuffers, calibrate_stream,
    calibrate_tier, watch_set, watch_set_with,
};

/// One streaming indicator: feed inputs in time order with [`update`](Indicator::update).
pub trait Indicator {
    /// What one update takes: `f64` (a close) or a [`Bar`].
    type Input: Copy;
    /// What it produces once past its lookback.
    type Output: Copy;
    /// Take the next input; the new value, or `None` while still in the lookback.
    fn update(&mut self, input: Self::Input) -> Option<Self::Output>;
    /// The latest value, if any.
    fn value(&self) -> Option<Self::Output>;
    /// Forget everything, as if just constructed.
    fn reset(&mut self);
}

/// The part of a candle that bar-based indicators read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

impl From<&canary_model::Candle> for Bar {
    fn from(c: &canary_model::Candle) -> Self {
        Bar {
            high: c.high,
            low: c.low,
            close: c.close,
            volume: c.volume,
        }
    }
}

/// Why a batch call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaError {
    /// An input or output slice has another length than the first input.
    #[error("slice lengths differ: {what} has {got} elements, expected {expected}")]
    Length {
        what: &'static str,
        got: usize,
        expected: usize,
    },
    /// A period outside what the indicator accepts.
    #[error("{name}: period {got} is out of range (minimum {min})")]
    Period {
        name: &'static str,
        got: usize,
        min: usize,
    },
}

pub(crate) fn check_period(name: &'static str, got: usize, min: usize) -> Result<(), TaError> {
    if got < min {
        Err(TaError::Period { name, got, min })
    } else {
        Ok(())
    }
}

pub(crate) fn check_len(what: &'static str, got: usize, expected: usize) -> Result<(), TaError> {
    if got == expected {
        Ok(())
    } else {
        Err(TaError::Length {
            what,
            got,
            expected,
        })
    }
}

/// TA-Lib's `TA_IS_ZERO`: |x| < 1e-8.
#[inline]
pub(crate) fn is_zero(x: f64) -> bool {
    -1e-8 < x && x < 1e-8
}

/// Drive a streaming indicator over `inputs`, writing `NaN` where it has no value.
pub(crate) fn drive<I: Indicator<Output = f64>>(
    mut ind: I,
    inputs: impl Iterator<Item = I::Input>,
    out: &mut [f64],
) {
    for (o, x) in out.iter_mut().zip(inputs) {
        *o = ind.update(x).unwrap_or(f64::NAN);
    }
}

/// Check that high/low/close (and volume) slices and the output have one length.
pub(crate) fn check_hlc(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: Option<&[f64]>,
    out_len: usize,
) -> Result<(), TaError> {
    check_len("low", low.len(), high.len())?;
    check_len("close", close.len(), high.len())?;
    if let Some(v) = volume {
        check_len("volume", v.len(), high.len())?;
    }
    check_len("output", out_len, high.len())
}

/// Zip high/low/close/volume slices into bars, after checking their lengths against `out`.
pub(crate) fn bars<'a>(
    high: &'a [f64],
    low: &'a [f64],
    close: &'a [f64],
    volume: Option<&'a [f64]>,
    out_len: usize,
) -> Result<impl Iterator<Item = Bar> + 'a, TaError> {
    check_hlc(high, low, close, volume, out_len)?;
    Ok((0..high.len()).map(move |i| Bar {
        high: high[i],
        low: low[i],
        close: close[i],
        volume: volume.map_or(0.0, |v| v[i]),
    }))
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Shared helpers for the streaming-equals-batch property tests.
    use proptest::prelude::*;

    /// A random walk of positive prices with some flat stretches and repeated values.
    pub(crate) fn prices() -> impl Strategy<Value = Vec<f64>> {
        proptest::collection::vec((-3.0f64..3.0, 0u8..10), 0..300).prop_map(|steps| {
            let mut p = 100.0;
            steps
                .into_iter()
                .map(|(d, flat)| {
                    if flat > 1 {
                        p = (p + d).max(1.0);
                    }
                    p
                })
                .collect()
        })
    }

    /// Bars (high, low, close, volume) around a random walk.
    pub(crate) fn ohlcv() -> impl Strategy<Value = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>)> {
        proptest::collection::vec(
            (-3.0f64..3.0, 0.0f64..2.0, 0.0f64..2.0, 0.0f64..50.0),
            0..300,
        )
        .prop_map(|steps| {
            let mut p = 100.0f64;
            let (mut h, mut l, mut c, mut v) = (vec![], vec![], vec![], vec![]);
            for (d, up, down, vol) in steps {
                p = (p + d).max(5.0);
                h.push(p + up);
                l.push(p - down);
                c.push(p);
                v.push(vol);
            }
            (h, l, c, v)
        })
    }

    /// Equal, both NaN, or within relative 1e-12.
    /// The same bits, or both NaN.
    pub(crate) fn same_bits(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    pub(crate) fn same(a: f64, b: f64) -> bool {
        (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
    }
}
