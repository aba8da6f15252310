//! Difficulty retargets (`MODELS.md` §1.1, §1.5): the rule, and the projection of the next
//! adjustment part-way through an epoch.

use super::protocol::TARGET_BLOCK_SECONDS;

/// Blocks left in the difficulty epoch at a height estimated from the time.
pub const EPOCH_POSITION: canary_model::Method = canary_model::Method::new("epoch_position", 1);

/// Blocks per difficulty epoch.
pub const EPOCH_BLOCKS: u64 = 2016;

/// The next difficulty by Bitcoin Core's rule: D·T_expected/T_clamped, with the epoch's actual
/// time span (first to last block, 2015 intervals) clamped to [T/4, 4T], T = 2016·600 s.
#[must_use]
pub fn next_difficulty(difficulty: f64, actual_span_s: f64) -> f64 {
    let expected = (EPOCH_BLOCKS.cast_signed() * TARGET_BLOCK_SECONDS) as f64;
    let clamped = actual_span_s.clamp(expected / 4.0, expected * 4.0);
    difficulty * expected / clamped
}

/// The projected change at the next retarget, part-way through an epoch:
/// 600·blocks / elapsed − 1 (as a fraction), clamped like the rule (×4 at most either way).
#[must_use]
pub fn projected_adjustment(blocks_in_epoch: u64, elapsed_s: f64) -> f64 {
    let raw = TARGET_BLOCK_SECONDS as f64 * blocks_in_epoch as f64 / elapsed_s;
    raw.clamp(0.25, 4.0) - 1.0
}

/// Blocks left in the epoch that contains `height`, and the height of the next retarget.
#[must_use]
pub fn epoch_position(height: u64) -> (u64, u64) {
    let next = (height / EPOCH_BLOCKS + 1) * EPOCH_BLOCKS;
    (next - height, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retarget_rule_and_projection() {
        let t = 2016.0 * 600.0;
        assert_eq!(next_difficulty(100.0, t), 100.0);
        // Blocks 6 % slower: difficulty falls 1 − 1/1.06.
        assert!((next_difficulty(100.0, t * 1.06) - 100.0 / 1.06).abs() < 1e-9);
        // Clamp at ×4 either way.
        assert_eq!(next_difficulty(100.0, t * 10.0), 25.0);
        assert_eq!(next_difficulty(100.0, t / 10.0), 400.0);
        // 1,000 blocks in 600,000 s: on target.
        assert!(projected_adjustment(1000, 600_000.0).abs() < 1e-12);
        assert!(
            (projected_adjustment(1000, 640_000.0) - (600_000.0 / 640_000.0 - 1.0)).abs() < 1e-12
        );
        // 838,656 = 416 × 2016 opens an epoch; the halving block 840,000 is inside it.
        assert_eq!(epoch_position(838_656), (2016, 840_672));
        assert_eq!(epoch_position(840_000), (672, 840_672));
    }
}
