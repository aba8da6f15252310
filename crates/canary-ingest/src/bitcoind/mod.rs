//! Bitcoin Core JSON-RPC: `getblockchaininfo`, `getmininginfo`, `getnetworkhashps`,
//! `getblockstats`. `messages.rs` mirrors the results, `parse.rs` converts, `client.rs`
//! calls (HTTP POST with basic authentication).

mod client;
mod messages;
mod parse;

pub use client::BitcoinRpc;
pub use parse::{parse_block_stats, parse_chain_tip};
