//! Esplora-compatible address API (Blockstream's esplora; mempool.space serves the same
//! routes): the transactions of an address, with each input's previous output, for entity
//! flows. `messages.rs`, `parse.rs`, `client.rs` as in the other adapters.

mod client;
mod messages;
mod parse;

pub use client::EsploraClient;
pub use parse::{TxPage, page_from, parse_txs};
