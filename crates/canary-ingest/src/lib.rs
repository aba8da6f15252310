//! Canary's sources of market data that need no network: CSV importers and the market
//! simulator. Each turns its input into model types ([`canary_model::Candle`]) with pure
//! functions; storing them is the caller's business.
//!
//! - [`csv`]: Binance kline dumps and header-mapped OHLCV files, validated row by row.
//! - [`network`]: daily network series (hash rate, difficulty, subsidy, fleet efficiency, fees).
//! - [`sim`]: a deterministic GARCH(1,1) / Student-t market for demos, tests and benchmarks.

pub mod csv;
pub mod network;
pub mod sim;
