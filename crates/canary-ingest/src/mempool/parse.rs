//! mempool.space payloads → model types, pure functions.

use canary_model::Timestamp;
use canary_model::network::{BlockStats, DifficultyEpoch, DifficultySample, HashrateSample};

use super::messages::{Block, DifficultyAdjustment, Hashrate};

fn btc(sats: u64) -> f64 {
    sats as f64 / 1e8
}

/// The current epoch.
#[must_use]
pub fn parse_difficulty_adjustment(m: &DifficultyAdjustment) -> DifficultyEpoch {
    DifficultyEpoch {
        progress_pct: m.progress_percent,
        projected_change_pct: m.difficulty_change,
        remaining_blocks: m.remaining_blocks,
        next_retarget_height: m.next_retarget_height,
        estimated_retarget: Timestamp::from_millis(m.estimated_retarget_date),
        previous_change_pct: m.previous_retarget,
    }
}

/// Hash-rate history and the difficulty at each adjustment, in time order.
#[must_use]
pub fn parse_hashrate(m: &Hashrate) -> (Vec<HashrateSample>, Vec<DifficultySample>) {
    let mut h: Vec<HashrateSample> = m
        .hashrates
        .iter()
        .map(|e| HashrateSample {
            time: Timestamp::from_millis(e.timestamp * 1000),
            hashrate_hs: e.avg_hashrate,
        })
        .collect();
    h.sort_by_key(|s| s.time);
    let mut d: Vec<DifficultySample> = m
        .difficulty
        .iter()
        .map(|e| DifficultySample {
            time: Timestamp::from_millis(e.time * 1000),
            height: e.height,
            difficulty: e.difficulty,
        })
        .collect();
    d.sort_by_key(|s| s.time);
    (h, d)
}

/// Blocks in height order; the subsidy is the reward less the fees.
#[must_use]
pub fn parse_blocks(m: &[Block]) -> Vec<BlockStats> {
    let mut out: Vec<BlockStats> = m
        .iter()
        .map(|b| {
            let fees = b.extras.as_ref().and_then(|x| x.total_fees);
            let reward = b.extras.as_ref().and_then(|x| x.reward);
            BlockStats {
                height: b.height,
                time: Timestamp::from_millis(b.timestamp * 1000),
                difficulty: b.difficulty,
                subsidy_btc: reward.zip(fees).map(|(r, f)| btc(r.saturating_sub(f))),
                fees_btc: fees.map(btc),
                tx_count: b.tx_count,
            }
        })
        .collect();
    out.sort_by_key(|b| b.height);
    out
}

/// The difficulty epoch from a `/v1/difficulty-adjustment` response body.
///
/// # Errors
/// A body that is not that payload, naming `address`.
pub fn difficulty_adjustment_from(
    address: &str,
    body: &str,
) -> Result<DifficultyEpoch, crate::source::SourceError> {
    let m: super::messages::DifficultyAdjustment =
        crate::source::decode(address, "difficulty adjustment", body)?;
    Ok(parse_difficulty_adjustment(&m))
}

/// Hash-rate samples and difficulty adjustments from a `/v1/mining/hashrate/…` body.
///
/// # Errors
/// A body that is not that payload, naming `address`.
pub fn hashrate_from(
    address: &str,
    body: &str,
) -> Result<(Vec<HashrateSample>, Vec<DifficultySample>), crate::source::SourceError> {
    let m: super::messages::Hashrate = crate::source::decode(address, "hash-rate history", body)?;
    Ok(parse_hashrate(&m))
}

/// Block figures from a `/v1/blocks` body.
///
/// # Errors
/// A body that is not that payload, naming `address`.
pub fn blocks_from(
    address: &str,
    body: &str,
) -> Result<Vec<BlockStats>, crate::source::SourceError> {
    let m: Vec<super::messages::Block> = crate::source::decode(address, "block list", body)?;
    Ok(parse_blocks(&m))
}
