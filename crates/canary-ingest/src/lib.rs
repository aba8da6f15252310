//! Canary's sources: CSV importers and the connectors to network-data APIs. Each turns its
//! input into model types ([`canary_model::Candle`]) with pure functions; storing them is the
//! caller's business.
//!
//! - [`csv`]: Binance kline dumps and header-mapped OHLCV files, validated row by row and
//!   streamed ([`csv::CandleStream`]), within an accepted time range.
//! - [`lines`]: CSV files read so that errors name the physical line (LF, CRLF, quoted newlines).
//! - [`derivatives`]: funding rates, open interest and liquidations (Binance archive files,
//!   CoinGlass exports, header-mapped CSV).
//! - [`network`]: daily network series (hash rate, difficulty, subsidy, fleet efficiency, fees).
//! - [`news`]: headline files (CSV, JSON) and feeds (RSS, Atom, JSON Feed) with a poller's
//!   client (conditional requests, redirects, timeout, size cap).
//! - [`esplora`]: address transactions for entity flows.
//! - [`mempool`] and [`bitcoind`]: connectors to the mempool.space REST API and Bitcoin Core
//!   JSON-RPC (`messages.rs`, `parse.rs`, `client.rs` each); [`source`]: their errors.
//! - [`binance`]: the Binance spot kline stream (WebSocket) with REST backfill of any gap;
//!   [`coinbase`]: the Coinbase Exchange matches channel (trades), a second venue.
//! - [`binance_futures`]: Binance USDⓈ-M mark prices, funding and liquidations (WebSocket)
//!   with open interest and settled funding polled over REST; [`bybit`]: Bybit v5 linear
//!   tickers (mark, index, open interest, funding) and all liquidations, with open interest
//!   and settled funding back-filled over REST; [`perp`]: what the two share.
//! - [`bus`]: where sources publish stamped events and the engine takes them (a bounded
//!   channel in one process; the seam a networked bus goes behind).
//! - [`tls`]: the TLS client configuration of Canary's own connections; [`ws`]: WebSocket
//!   connections over it.

pub mod binance;
pub mod binance_futures;
pub mod bitcoind;
pub mod bus;
pub mod bybit;
pub mod coinbase;
pub mod csv;
pub mod derivatives;
pub mod esplora;
pub mod lines;
pub mod markets;
pub mod mempool;
pub mod network;
pub mod news;
pub mod perp;
pub mod source;
pub mod tls;
pub mod ws;

/// A temporary file holding `text`, for the importers' tests.
#[cfg(test)]
pub(crate) fn test_file(text: &str) -> tempfile::NamedTempFile {
    use std::io::Write;
    let mut f = tempfile::NamedTempFile::new().expect("a temporary file");
    f.write_all(text.as_bytes()).expect("writable");
    f
}
