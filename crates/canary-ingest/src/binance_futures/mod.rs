//! Binance USDⓈ-M futures: the mark price stream (mark, index and the predicted funding rate
//! with the next funding time) and the liquidation order stream over one combined WebSocket,
//! with open interest and settled funding rates polled over REST beside it.
//!
//! Binance's liquidation stream sends at most one order per symbol per second (the latest of
//! each second), so in a cascade it undercounts; every order it sends says so
//! ([`LIQUIDATION_COVERAGE`]).
//!
//! `messages.rs` mirrors the documented payloads, `parse.rs` turns them into model types,
//! `client.rs` keeps the stream and the poller running.

mod client;
mod messages;
mod parse;

pub use crate::perp::Held;
pub use client::{BinanceFuturesStream, LIQUIDATION_COVERAGE, REST_BASE, WS_BASE};
pub use parse::{
    Frame, Mark, OiRow, VENUE, frame, funding_rates, open_interest, open_interest_hist,
};
