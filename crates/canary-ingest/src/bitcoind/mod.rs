//! Bitcoin Core JSON-RPC: `getblockchaininfo`, `getmininginfo`, `getnetworkhashps`,
//! `getblockstats`. `messages.rs` mirrors the results, `parse.rs` converts, `client.rs`
//! calls (HTTP POST with basic authentication).

mod client;
mod messages;
mod parse;

pub use client::BitcoinRpc;
pub use parse::{block_stats_from, chain_tip_from, parse_block_stats, parse_chain_tip, rpc_result};
