//! Coinbase Exchange: the matches channel over WebSocket, trades of the products named, as a
//! second venue beside Binance (the engine cross-checks their bars).
//!
//! `parse.rs` reads the documented messages, `client.rs` keeps the feed alive.

mod client;
mod parse;

pub use client::{CoinbaseStream, WS_BASE};
pub use parse::{Message, message};
