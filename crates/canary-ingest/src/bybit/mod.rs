//! Bybit v5, linear contracts: the `tickers` topic (a snapshot, then deltas merged into each
//! symbol's state: mark and index prices, open interest, the funding rate and the next
//! funding time) and the `allLiquidation` topic over one WebSocket, with the 5-minute open
//! interest and the settled funding rates fetched over REST beside it.
//!
//! `messages.rs` mirrors the documented payloads, `parse.rs` turns them into model types and
//! merges the tickers, `client.rs` keeps the stream and the poller running.

mod client;
mod messages;
mod parse;

pub use crate::perp::Held;
pub use client::{BybitStream, PING_EVERY, REST_BASE, WS_BASE};
pub use parse::{Frame, Levels, Merged, Tickers, VENUE, frame, funding_history, open_interest};
