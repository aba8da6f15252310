//! mempool.space REST API (also self-hosted mempool instances): difficulty adjustment,
//! hash-rate history and recent blocks with their fees.
//!
//! `messages.rs` mirrors the JSON payloads, `parse.rs` turns them into model types,
//! `client.rs` fetches them.

mod client;
mod messages;
mod parse;

pub use client::MempoolClient;
pub use parse::{
    blocks_from, difficulty_adjustment_from, hashrate_from, parse_blocks,
    parse_difficulty_adjustment, parse_hashrate,
};
