//! Bitcoin network observations as sources report them, in model units.

use serde::Serialize;

use crate::time::Timestamp;

/// The state of the current difficulty epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DifficultyEpoch {
    /// Share of the epoch's 2,016 blocks mined so far, in percent.
    pub progress_pct: f64,
    /// Projected change at the retarget, in percent.
    pub projected_change_pct: f64,
    pub remaining_blocks: u64,
    pub next_retarget_height: u64,
    pub estimated_retarget: Timestamp,
    /// The change at the previous retarget, in percent.
    pub previous_change_pct: f64,
}

/// A network hash-rate estimate at a time (H/s).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HashrateSample {
    pub time: Timestamp,
    pub hashrate_hs: f64,
}

/// The difficulty in force from a block on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DifficultySample {
    pub time: Timestamp,
    pub height: u64,
    pub difficulty: f64,
}

/// One block's figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BlockStats {
    pub height: u64,
    pub time: Timestamp,
    pub difficulty: Option<f64>,
    pub subsidy_btc: Option<f64>,
    pub fees_btc: Option<f64>,
    pub tx_count: Option<u64>,
}

/// The chain tip as a node or explorer reports it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChainTip {
    pub height: u64,
    pub difficulty: f64,
    /// The node's own hash-rate estimate, when it gives one.
    pub hashrate_hs: Option<f64>,
    pub median_time: Option<Timestamp>,
}

/// A transaction as an address API shows it: who paid (each input's previous output) and who
/// was paid, in satoshis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainTx {
    pub txid: String,
    /// Block time; `None` while unconfirmed.
    pub time: Option<Timestamp>,
    pub inputs: Vec<TxOut>,
    pub outputs: Vec<TxOut>,
}

/// An output: the address it pays (none for non-standard scripts) and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TxOut {
    pub address: Option<String>,
    pub sats: u64,
}
