//! Bitcoin Core results → model types, pure functions.

use canary_model::Timestamp;
use canary_model::network::{BlockStats, ChainTip};

use super::messages::{self, BlockchainInfo, MiningInfo};

#[allow(clippy::cast_precision_loss)]
fn btc(sats: u64) -> f64 {
    sats as f64 / 1e8
}

/// The tip from `getblockchaininfo` and, when available, `getmininginfo`'s hash-rate estimate.
#[must_use]
pub fn parse_chain_tip(info: &BlockchainInfo, mining: Option<&MiningInfo>) -> ChainTip {
    ChainTip {
        height: info.blocks,
        difficulty: info.difficulty,
        hashrate_hs: mining.map(|m| m.networkhashps),
        median_time: info.mediantime.map(|t| Timestamp::from_millis(t * 1000)),
    }
}

/// One block's figures from `getblockstats`.
#[must_use]
pub fn parse_block_stats(s: &messages::BlockStats) -> BlockStats {
    BlockStats {
        height: s.height,
        time: Timestamp::from_millis(s.time * 1000),
        difficulty: None,
        subsidy_btc: s.subsidy.map(btc),
        fees_btc: s.totalfee.map(btc),
        tx_count: s.txs,
    }
}
