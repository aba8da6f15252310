//! Raw JSON-RPC payloads of Bitcoin Core (developer.bitcoin.org/reference/rpc).

use serde::Deserialize;

/// The JSON-RPC 1.0 envelope: `{"result": …, "error": null | {"code": -8, "message": "…"}, "id": "canary"}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope<T> {
    pub result: Option<T>,
    pub error: Option<RpcError>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

/// `getblockchaininfo`, e.g. `{"chain":"main","blocks":880000,"headers":880000,
/// "difficulty":110568428300952.7,"mediantime":1736000000, …}`.
#[derive(Debug, Clone, Deserialize)]
pub struct BlockchainInfo {
    pub chain: String,
    pub blocks: u64,
    pub difficulty: f64,
    pub mediantime: Option<i64>,
}

/// `getmininginfo`, e.g. `{"blocks":880000,"difficulty":110568428300952.7,
/// "networkhashps":7.9e20,"pooledtx":3000,"chain":"main"}`.
#[derive(Debug, Clone, Deserialize)]
pub struct MiningInfo {
    pub blocks: u64,
    pub difficulty: f64,
    pub networkhashps: f64,
}

/// `getblockstats <height>`, e.g. `{"height":880000,"time":1736000000,"subsidy":312500000,
/// "totalfee":2500000,"txs":3500, …}` (amounts in satoshis).
#[derive(Debug, Clone, Deserialize)]
pub struct BlockStats {
    pub height: u64,
    pub time: i64,
    pub subsidy: Option<u64>,
    pub totalfee: Option<u64>,
    pub txs: Option<u64>,
}
