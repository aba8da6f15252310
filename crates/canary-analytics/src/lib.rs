//! Canary's pure computations. No I/O, no clock, no async runtime: inputs arrive as values,
//! outputs leave as values, and the same inputs always give the same outputs.
//!
//! - [`ta`]: technical indicators, each in a streaming and a batch form, equal to TA-Lib.
//! - [`derivatives`]: funding z-score and carry, open-interest change, liquidations ranked.
//! - [`flows`]: labelled entities' outflows by destination kind, z-scores, position ratio.
//! - [`levels`]: support/resistance from pivots, volume profile and round numbers; their backtest.
//! - [`liqmap`]: the estimated liquidation map and the cascade loop.
//! - [`mining`]: Bitcoin protocol facts (subsidy, supply, height from time).
//! - [`series`]: candles with the names claims need; [`stats`]: market statistics as claims.
//! - [`treasury`]: company cost per BTC, break-evens, coverage, runway, forced selling.
//! - [`score`]: Risk, Threat, Pulse and label from a published methodology, with the waterfall.
//! - [`resample`]: higher-timeframe bars from lower ones, UTC-aligned, partial buckets flagged.

pub mod derivatives;
pub mod flows;
pub mod levels;
pub mod liqmap;
pub mod markets;
pub mod mining;
pub mod resample;
pub mod score;
pub mod series;
pub mod stats;
// The kernels' steps are inlined into each SIMD copy of their callers on purpose (`#[inline(always)]`):
// what is not inlined keeps the baseline instructions (`ta/simd.rs::with_simd`).
#[expect(clippy::inline_always)]
pub mod ta;
pub mod treasury;
