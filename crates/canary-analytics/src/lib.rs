//! Canary's pure computations. No I/O, no clock, no async runtime: inputs arrive as values,
//! outputs leave as values, and the same inputs always give the same outputs.
//!
//! - [`ta`]: technical indicators, each in a streaming and a batch form, equal to TA-Lib.
//! - [`resample`]: higher-timeframe bars from lower ones, UTC-aligned, partial buckets flagged.

pub mod resample;
pub mod ta;
