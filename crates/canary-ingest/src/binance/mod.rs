//! Binance spot: the kline stream over WebSocket (closed klines become bars), with the bars
//! missed during any break fetched by REST before streaming resumes, so that the bars held
//! have no hole and no duplicate.
//!
//! `messages.rs` mirrors the documented payloads, `parse.rs` turns them into candles,
//! `client.rs` keeps the stream alive.

mod client;
mod messages;
mod parse;

pub use client::{BinanceStream, Ended, Now, REST_BASE, WS_BASE};
pub use parse::{Frame, frame, rest_klines};
