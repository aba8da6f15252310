//! Protocol facts, computed rather than typed in (`MODELS.md` §1.1): the block subsidy by
//! height (50 BTC halving every 210,000 blocks), the supply issued up to a height, and the
//! height estimated from a time by anchoring on the halving blocks' timestamps.

use canary_model::Timestamp;

/// Circulating supply from the subsidy schedule at a height estimated from the time.
pub const SUPPLY_FROM_SCHEDULE: canary_model::Method =
    canary_model::Method::new("supply_from_schedule", 1);
/// The block subsidy by the halving schedule at a height estimated from the time.
pub const SUBSIDY_SCHEDULE: canary_model::Method = canary_model::Method::new("subsidy_schedule", 1);

/// Blocks between halvings.
pub const HALVING_INTERVAL: u64 = 210_000;
/// Satoshis per bitcoin.
pub const SATS_PER_BTC: u64 = 100_000_000;
/// Target seconds between blocks.
pub const TARGET_BLOCK_SECONDS: i64 = 600;

/// Block subsidy at `height` in satoshis: 50 BTC shifted right once per 210,000 blocks, as
/// Bitcoin Core computes it (zero after 64 halvings).
#[must_use]
pub fn subsidy_sats(height: u64) -> u64 {
    let halvings = height / HALVING_INTERVAL;
    if halvings >= 64 {
        0
    } else {
        (50 * SATS_PER_BTC) >> halvings
    }
}

/// Block subsidy at `height` in BTC.
#[must_use]
pub fn subsidy_btc(height: u64) -> f64 {
    subsidy_sats(height) as f64 / SATS_PER_BTC as f64
}

/// BTC issued by the subsidies of blocks 0…`height` (the genesis block's 50 included).
#[must_use]
pub fn supply_btc(height: u64) -> f64 {
    let mut sats: u128 = 0;
    let mut start = 0u64;
    while start <= height {
        let era_end = (start / HALVING_INTERVAL + 1) * HALVING_INTERVAL - 1;
        let end = era_end.min(height);
        sats += u128::from(end - start + 1) * u128::from(subsidy_sats(start));
        if subsidy_sats(start) == 0 {
            break;
        }
        start = end + 1;
    }
    sats as f64 / SATS_PER_BTC as f64
}

/// Known (height, block time) anchors: the genesis block and the four halving blocks
/// (timestamps as recorded in those blocks' headers).
pub const HEIGHT_ANCHORS: [(u64, Timestamp); 5] = [
    (0, Timestamp::from_millis(1_231_006_505_000)), // 2009-01-03T18:15:05Z
    (210_000, Timestamp::from_millis(1_354_116_278_000)), // 2012-11-28T15:24:38Z
    (420_000, Timestamp::from_millis(1_468_082_773_000)), // 2016-07-09T16:46:13Z
    (630_000, Timestamp::from_millis(1_589_225_023_000)), // 2020-05-11T19:23:43Z
    (840_000, Timestamp::from_millis(1_713_571_767_000)), // 2024-04-20T00:09:27Z
];

/// The block height at time `t`, estimated: linear between the anchors, and after the last one
/// at the target rate of one block per 600 s. An estimate (blocks come faster when hash rate
/// grows between adjustments): say so wherever it is shown.
#[must_use]
#[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn estimated_height(t: Timestamp) -> u64 {
    let (h0, t0) = HEIGHT_ANCHORS[0];
    if t <= t0 {
        return h0;
    }
    for w in HEIGHT_ANCHORS.windows(2) {
        let ((ha, ta), (hb, tb)) = (w[0], w[1]);
        if t <= tb {
            let frac = (t.millis() - ta.millis()) as f64 / (tb.millis() - ta.millis()) as f64;
            return ha + ((hb - ha) as f64 * frac) as u64;
        }
    }
    let (hl, tl) = HEIGHT_ANCHORS[HEIGHT_ANCHORS.len() - 1];
    hl + ((t.millis() - tl.millis()) / 1000 / TARGET_BLOCK_SECONDS) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsidy_schedule() {
        assert_eq!(subsidy_btc(0), 50.0);
        assert_eq!(subsidy_btc(209_999), 50.0);
        assert_eq!(subsidy_btc(210_000), 25.0);
        assert_eq!(subsidy_btc(840_000), 3.125);
        assert_eq!(subsidy_btc(1_050_000), 1.5625);
        assert_eq!(subsidy_sats(64 * HALVING_INTERVAL), 0);
        // The 21M cap (less the satoshi rounding of late eras).
        let cap = supply_btc(64 * HALVING_INTERVAL);
        assert!((20_999_999.0..21_000_000.0).contains(&cap), "{cap}");
    }

    #[test]
    fn supply_estimate_matches_known_values() {
        // About 19.8M BTC in early 2025 (block ~878,000 in mid-January 2025).
        let t = Timestamp::parse("2025-01-15").unwrap();
        let h = estimated_height(t);
        assert!((876_000..881_000).contains(&h), "{h}");
        let s = supply_btc(h);
        assert!((s / 19_810_000.0 - 1.0).abs() < 0.005, "{s}");
        // At a halving anchor the estimate is exact.
        assert_eq!(estimated_height(HEIGHT_ANCHORS[4].1), 840_000);
        assert_eq!(supply_btc(839_999), 19_687_500.0);
    }
}
