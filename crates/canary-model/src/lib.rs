//! Canary's domain types.
//!
//! Everything here is plain data with validating constructors: a value of one of these types
//! is valid by construction. No I/O, no clock, no async runtime (see `ARCHITECTURE.md`).
//!
//! - [`Timestamp`]: UTC milliseconds since the Unix epoch, ISO-8601 parse and display.
//! - [`Timeframe`]: bar durations (1m … 1w) and their UTC alignment.
//! - [`Symbol`]: an instrument, optionally venue-qualified (`BINANCE:BTCUSDT`).
//! - [`Candle`]: one OHLCV bar with its invariants checked.
//! - [`derivatives`]: funding rates, open interest, liquidations, mark and index prices as
//!   point-in-time series keyed by kind, market, venues and interval.
//! - [`network`]: Bitcoin network observations (epoch, hash rate, difficulty, block stats).
//! - [`Claim`]: a number with unit, as-of time and provenance; [`ClaimSet`] checks that
//!   derivations resolve; [`Method`] names a formula and its version.
//! - [`SourceKind`]: real, simulated or user-supplied data.
//! - [`news`]: news items, their sentiment and tags, and stories.
//! - [`excerpt`]: input quoted in an error, at most a short excerpt.
//! - [`event`]: what the live engine takes in from its sources (trades, bars, gaps,
//!   reconnections, silence, unreadable messages), stamped with when Canary had it.

mod candle;
mod claim;
pub mod derivatives;
pub mod event;
pub mod excerpt;
pub mod markets;
pub mod network;
pub mod news;
mod source;
mod symbol;
mod time;
mod timeframe;

/// 64-bit FNV-1a (Fowler–Noll–Vo), a stable, platform-independent content hash: what
/// claim ids, stored event identities and news fingerprints are made of.
#[must_use]
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

pub use candle::{Candle, CandleError, CandleField, MAX_PRICE, MAX_TRADES, MAX_VOLUME, MIN_PRICE};
pub use claim::{Claim, ClaimId, ClaimSet, DanglingInput, Derivation, Method, Provenance};
pub use source::{SourceKind, SourceKindError};
pub use symbol::{Symbol, SymbolError};
pub use time::{Timestamp, TimestampError};
pub use timeframe::{Timeframe, TimeframeError};
