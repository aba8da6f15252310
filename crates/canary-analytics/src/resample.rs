//! Building higher-timeframe bars from lower ones, UTC-aligned.
//!
//! A bucket takes the first open, the highest high, the lowest low, the last close and the sums
//! of volume, quote volume (when every source bar has one) and trades. A bucket whose end is at
//! or before the as-of time is complete even when some of its source bars are missing (an
//! exchange outage): it says how many it was built from. A bucket still open at the as-of time
//! is partial and flagged so; callers never store it as complete.

use canary_model::{Candle, Timeframe, Timestamp};

/// One higher-timeframe bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resampled {
    pub candle: Candle,
    /// How many source bars it was built from.
    pub source_bars: u32,
    /// How many source bars a full bucket has.
    pub expected_bars: u32,
    /// Its time has fully elapsed at the as-of time.
    pub complete: bool,
    /// When it became knowable: its close time, or the latest source bar's availability if later.
    pub available_at: Timestamp,
}

/// Why bars cannot be resampled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResampleError {
    #[error(
        "cannot build {to} bars from {from} bars: the timeframe built must be longer than the source's ({to} is not longer than {from})"
    )]
    NotLonger { from: Timeframe, to: Timeframe },
    #[error("cannot build {to} bars from {from} bars: {to} must be a whole multiple of {from}")]
    NotMultiple { from: Timeframe, to: Timeframe },
    /// A bucket whose sums leave the bounds of a bar (volumes summed past the largest
    /// accepted, or to infinity): never stored.
    #[error("the {to} bar at {bucket} would not be a valid bar: {reason}; nothing was built")]
    Invalid {
        to: Timeframe,
        bucket: Timestamp,
        reason: String,
    },
    #[error("source bars are not in increasing time order at {at}")]
    Unordered { at: Timestamp },
}

/// Whether `to` bars can be built from `from` bars: longer, and a whole multiple.
///
/// # Errors
/// [`ResampleError::NotLonger`] or [`ResampleError::NotMultiple`].
pub fn check_timeframes(from: Timeframe, to: Timeframe) -> Result<(), ResampleError> {
    if to <= from {
        return Err(ResampleError::NotLonger { from, to });
    }
    if !to.is_multiple_of(from) {
        return Err(ResampleError::NotMultiple { from, to });
    }
    Ok(())
}

/// Resample `bars` (of timeframe `from`, in time order, each with its availability time) into
/// `to` bars as of `asof`. Source bars not yet available at `asof` are ignored.
///
/// # Errors
/// When `to` is not longer than `from` or not a multiple of it, the bars are out of order, or
/// a bucket's sums leave the bounds of a valid bar ([`Candle::new`]).
pub fn resample(
    bars: &[(Candle, Timestamp)],
    from: Timeframe,
    to: Timeframe,
    asof: Timestamp,
) -> Result<Vec<Resampled>, ResampleError> {
    check_timeframes(from, to)?;
    let expected = u32::try_from(to.duration_ms() / from.duration_ms()).unwrap_or(u32::MAX);
    let mut out: Vec<Resampled> = Vec::new();
    let mut prev: Option<Timestamp> = None;
    for (c, avail) in bars.iter().filter(|(_, a)| *a <= asof) {
        if prev.is_some_and(|p| p >= c.open_time) {
            return Err(ResampleError::Unordered { at: c.open_time });
        }
        prev = Some(c.open_time);
        let bucket = to.floor(c.open_time);
        match out.last_mut() {
            Some(r) if r.candle.open_time == bucket => {
                let b = &mut r.candle;
                b.high = b.high.max(c.high);
                b.low = b.low.min(c.low);
                b.close = c.close;
                b.volume += c.volume;
                b.quote_volume = b.quote_volume.zip(c.quote_volume).map(|(a, q)| a + q);
                b.trades = b.trades.zip(c.trades).map(|(a, t)| a.saturating_add(t));
                r.source_bars += 1;
                r.available_at = r.available_at.max(*avail);
            }
            _ => {
                let close_time = to.close_of(bucket);
                out.push(Resampled {
                    candle: Candle {
                        open_time: bucket,
                        ..*c
                    },
                    source_bars: 1,
                    expected_bars: expected,
                    complete: false,
                    available_at: close_time.max(*avail),
                });
            }
        }
    }
    for r in &mut out {
        r.complete = to.close_of(r.candle.open_time) <= asof;
        let c = &r.candle;
        c.checked().map_err(|e| ResampleError::Invalid {
            to,
            bucket: c.open_time,
            reason: e.to_string(),
        })?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(t: &str, o: f64, h: f64, l: f64, c: f64) -> (Candle, Timestamp) {
        let t = Timestamp::parse(t).unwrap();
        (
            Candle::new(t, o, h, l, c, 1.0, Some(10.0), Some(3)).unwrap(),
            t.add_millis(Timeframe::H4.duration_ms()),
        )
    }

    #[test]
    fn builds_days_flags_partial_and_counts_missing_bars() {
        let bars = vec![
            bar("2026-02-05T00:00:00Z", 10.0, 12.0, 9.0, 11.0),
            bar("2026-02-05T08:00:00Z", 11.0, 15.0, 10.0, 14.0), // 04:00 missing (outage)
            bar("2026-02-05T20:00:00Z", 14.0, 14.5, 8.0, 9.0),
            bar("2026-02-06T00:00:00Z", 9.0, 9.5, 7.0, 8.0),
        ];
        let asof = Timestamp::parse("2026-02-06T05:00:00Z").unwrap();
        let r = resample(&bars, Timeframe::H4, Timeframe::D1, asof).unwrap();
        assert_eq!(r.len(), 2);
        let d = &r[0];
        assert!(d.complete);
        assert_eq!((d.source_bars, d.expected_bars), (3, 6));
        assert_eq!(
            (d.candle.open, d.candle.high, d.candle.low, d.candle.close),
            (10.0, 15.0, 8.0, 9.0)
        );
        assert_eq!(
            (d.candle.volume, d.candle.quote_volume, d.candle.trades),
            (3.0, Some(30.0), Some(9))
        );
        assert_eq!(d.available_at.to_string(), "2026-02-06T00:00:00Z");
        assert!(!r[1].complete, "the 6 Feb bucket is still open at 05:00");
        assert!(resample(&bars, Timeframe::D1, Timeframe::H4, asof).is_err());
    }

    /// Issue 19, item 11: the same timeframe is refused as not longer, not "not a multiple".
    #[test]
    fn the_target_must_be_longer_than_the_source() {
        let e = resample(&[], Timeframe::H4, Timeframe::H4, Timestamp::EPOCH).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot build 4h bars from 4h bars: the timeframe built must be longer than the source's (4h is not longer than 4h)"
        );
    }

    /// Issue 19, item 8: summing volumes of 1e308 once stored `inf`. Bars built past the
    /// bounds (from bars made without [`Candle::new`]) are refused, naming the bucket.
    #[test]
    fn a_bucket_whose_sums_overflow_is_refused_naming_it() {
        let mut bars = vec![
            bar("2026-02-05T00:00:00Z", 10.0, 12.0, 9.0, 11.0),
            bar("2026-02-05T04:00:00Z", 11.0, 15.0, 10.0, 14.0),
        ];
        for b in &mut bars {
            b.0.volume = 1e308;
        }
        let asof = Timestamp::parse("2026-02-07T00:00:00Z").unwrap();
        let e = resample(&bars, Timeframe::H4, Timeframe::D1, asof).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the 1d bar at 2026-02-05T00:00:00Z would not be a valid bar: volume: inf is not a finite volume ≥ 0; nothing was built"
        );
        for b in &mut bars {
            b.0.volume = 1.0;
            b.0.trades = Some(u64::MAX);
        }
        let e = resample(&bars, Timeframe::H4, Timeframe::D1, asof).unwrap_err();
        assert!(e.to_string().contains("trades:"), "{e}");
    }
}
