//! Raw payloads of the Esplora HTTP API (github.com/Blockstream/esplora/blob/master/API.md).

use serde::Deserialize;

/// One element of `GET /address/:address/txs` (newest first; confirmed pages continue at
/// `/address/:address/txs/chain/:last_seen_txid`), e.g.
/// `{"txid":"ab…","status":{"confirmed":true,"block_height":880000,"block_time":1736200000},
/// "vin":[{"txid":"cd…","vout":0,"prevout":{"scriptpubkey_address":"bc1q…","value":150000000}}],
/// "vout":[{"scriptpubkey_address":"bc1q…","value":149990000}],"fee":10000}` (values in sats).
#[derive(Debug, Clone, Deserialize)]
pub struct Tx {
    pub txid: String,
    pub status: Status,
    pub vin: Vec<Vin>,
    pub vout: Vec<Output>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    pub confirmed: bool,
    pub block_time: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Vin {
    /// Absent for coinbase inputs.
    pub prevout: Option<Output>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Output {
    pub scriptpubkey_address: Option<String>,
    pub value: u64,
}
