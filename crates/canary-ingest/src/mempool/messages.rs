//! Raw payloads of the mempool.space REST API, as documented at mempool.space/docs/api/rest.

use serde::Deserialize;

/// `GET /api/v1/difficulty-adjustment`, e.g.
/// `{"progressPercent":44.39,"difficultyChange":98.35,"estimatedRetargetDate":1627762478000,
/// "remainingBlocks":1121,"remainingTime":665977000,"previousRetarget":-4.80,
/// "nextRetargetHeight":741888,"timeAvg":302328,"timeOffset":0,"expectedBlocks":1.2}`
/// (dates and times in ms).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DifficultyAdjustment {
    pub progress_percent: f64,
    pub difficulty_change: f64,
    pub estimated_retarget_date: i64,
    pub remaining_blocks: u64,
    pub previous_retarget: f64,
    pub next_retarget_height: u64,
}

/// `GET /api/v1/mining/hashrate/{period}`, e.g.
/// `{"hashrates":[{"timestamp":1652486400,"avgHashrate":236728524847959400000}],
/// "difficulty":[{"time":1652468330,"height":736249,"difficulty":31251101365711.12,"adjustment":-3.75}],
/// "currentHashrate":252033247355348300000,"currentDifficulty":31251101365711.12}` (times in s).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(clippy::struct_field_names)] // the API's own field names
pub struct Hashrate {
    pub hashrates: Vec<HashrateEntry>,
    pub difficulty: Vec<DifficultyEntry>,
    pub current_hashrate: f64,
    pub current_difficulty: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HashrateEntry {
    pub timestamp: i64,
    pub avg_hashrate: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DifficultyEntry {
    pub time: i64,
    pub height: u64,
    pub difficulty: f64,
}

/// One element of `GET /api/v1/blocks[/:startHeight]`, e.g.
/// `{"id":"0000…","height":736249,"timestamp":1652891466,"tx_count":2676,"difficulty":31251101365711.12,
/// "extras":{"totalFees":11362814,"reward":636362814}}` (amounts in satoshis).
#[derive(Debug, Clone, Deserialize)]
pub struct Block {
    pub height: u64,
    pub timestamp: i64,
    pub tx_count: Option<u64>,
    pub difficulty: Option<f64>,
    pub extras: Option<BlockExtras>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockExtras {
    pub total_fees: Option<u64>,
    pub reward: Option<u64>,
}
