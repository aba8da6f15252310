//! Choosing the fused watch-set kernel's path on this processor, once per process: the
//! `CANARY_SIMD` (`baseline`, `avx2`, `avx512`) and `CANARY_STREAM` (`0`, `1`) overrides when
//! set, else measurements the first time a series long enough for the paths to differ is
//! computed (the vector tier on an in-cache series, a few milliseconds; streaming stores on a
//! series out of every cache, about a tenth of a second, only for series that long). Every path gives the same bits; only
//! the speed differs, and a tier or streaming stores that help on one processor can cost on
//! another.

use std::sync::OnceLock;
use std::time::Instant;

use canary_analytics::ta::{
    STREAM_FROM, Simd, TIER_BARS, WatchPath, calibrate_stream, calibrate_tier,
};

use crate::EngineError;

/// The path the environment asks for, if it asks.
///
/// # Errors
/// A value of `CANARY_SIMD` or `CANARY_STREAM` that names no path.
pub fn from_env() -> Result<Option<WatchPath>, EngineError> {
    let simd = std::env::var("CANARY_SIMD").ok();
    let stream = std::env::var("CANARY_STREAM").ok();
    if simd.is_none() && stream.is_none() {
        return Ok(None);
    }
    WatchPath::parse(simd.as_deref(), stream.as_deref())
        .map(Some)
        .map_err(|reason| EngineError::Param {
            name: "CANARY_SIMD / CANARY_STREAM",
            value: format!("{simd:?} / {stream:?}"),
            reason,
        })
}

fn timer(f: &mut dyn FnMut()) -> std::time::Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

/// The path for a series of `bars` bars: the environment's; else, from [`TIER_BARS`] bars
/// on, the vector tier calibrated once, and for series of [`STREAM_FROM`] bars or more,
/// streaming stores when a one-off measurement shows them faster; else the plain path.
///
/// # Errors
/// As [`from_env`].
pub fn watch_path(bars: usize) -> Result<WatchPath, EngineError> {
    static TIER: OnceLock<Simd> = OnceLock::new();
    static STREAM: OnceLock<bool> = OnceLock::new();
    if let Some(p) = from_env()? {
        return Ok(p);
    }
    if bars < TIER_BARS {
        return Ok(WatchPath::PLAIN);
    }
    let simd = *TIER.get_or_init(|| calibrate_tier(timer));
    let stream = bars >= STREAM_FROM && *STREAM.get_or_init(|| calibrate_stream(timer, simd));
    Ok(WatchPath { simd, stream })
}
