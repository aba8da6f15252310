//! Level quality (`canary backtest levels`, `MODELS.md` §5.1 validation): walk forward through
//! the bars; at each bar t the nearest pivot-cluster support and resistance are built from
//! pivots confirmed by t only. When the next bar enters a zone (from outside), that is a touch;
//! it bounces if within `horizon` bars price moves 1 ATR (as of t) beyond the zone in the
//! direction of the bounce. The baseline evaluates, at the same bars and by the same rule,
//! zones of the same width placed at distances drawn (seeded) from the real zones' distances:
//! it tells whether levels beat randomly placed zones at similar distances.

use canary_model::Candle;

use super::pivots::pivots;
use crate::ta::atr;

/// Settings for [`backtest_levels`].
/// The walk-forward bounce rate at the levels: bounces per touch (this module's doc).
pub const BOUNCE_RATE: canary_model::Method =
    canary_model::Method::new("backtest_levels_bounce", 1);
/// The same rate at random zones of the same widths (permuted distances).
pub const BASELINE_RATE: canary_model::Method =
    canary_model::Method::new("backtest_levels_baseline", 1);
/// One value over another (the lift: bounce rate / baseline rate).
pub const RATIO: canary_model::Method = canary_model::Method::new("ratio", 1);

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BacktestParams {
    pub k: usize,
    pub lookback: usize,
    /// Bars after a touch in which a bounce must happen.
    pub horizon: usize,
    /// Bars before the first test (ATR and pivots need history).
    pub warmup: usize,
    pub seed: u64,
}

impl Default for BacktestParams {
    fn default() -> Self {
        BacktestParams {
            k: 5,
            lookback: 730,
            horizon: 10,
            warmup: 100,
            seed: 42,
        }
    }
}

/// Touches and bounces of real and of random zones.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct BacktestReport {
    pub bars_tested: usize,
    pub touches: usize,
    pub bounces: usize,
    pub baseline_touches: usize,
    pub baseline_bounces: usize,
}

impl BacktestReport {
    /// Bounces per touch of the real levels.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn hit_rate(&self) -> f64 {
        self.bounces as f64 / self.touches.max(1) as f64
    }

    /// Bounces per touch of the random zones.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn baseline_rate(&self) -> f64 {
        self.baseline_bounces as f64 / self.baseline_touches.max(1) as f64
    }

    /// Hit rate / baseline rate.
    #[must_use]
    pub fn lift(&self) -> f64 {
        self.hit_rate() / self.baseline_rate()
    }
}

/// SplitMix64 (Steele, Lea, Flood): enough for drawing baseline distances reproducibly.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[allow(clippy::cast_possible_truncation)]
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A zone [lo, hi] on one side of the price.
#[derive(Clone, Copy)]
struct Zone {
    lo: f64,
    hi: f64,
}

/// Does bar u enter the zone (the bar before was outside, on the zone's far side), and does
/// price then move 1 ATR beyond the zone within the horizon?
fn evaluate(
    c: &[Candle],
    t: usize,
    z: Zone,
    support: bool,
    atr: f64,
    horizon: usize,
) -> Option<bool> {
    let u = t + 1;
    let entered = if support {
        c[t].low > z.hi && c[u].low <= z.hi
    } else {
        c[t].high < z.lo && c[u].high >= z.lo
    };
    if !entered {
        return None;
    }
    let after = &c[u + 1..=u + horizon];
    Some(if support {
        after.iter().any(|b| b.high >= z.hi + atr)
    } else {
        after.iter().any(|b| b.low <= z.lo - atr)
    })
}

/// Walk forward over `candles` (one timeframe, time order).
#[must_use]
pub fn backtest_levels(
    candles: &[Candle],
    p: &BacktestParams,
    mut progress: impl FnMut(usize, usize),
) -> BacktestReport {
    let n = candles.len();
    let mut report = BacktestReport::default();
    let start = p.warmup.max(2 * p.k + 15);
    if n < start + p.horizon + 2 {
        return report;
    }
    let (h, l, cl): (Vec<f64>, Vec<f64>, Vec<f64>) = (
        candles.iter().map(|x| x.high).collect(),
        candles.iter().map(|x| x.low).collect(),
        candles.iter().map(|x| x.close).collect(),
    );
    let mut atrs = vec![0.0; n];
    atr(&h, &l, &cl, 14, &mut atrs).expect("valid period");
    // Pivots are stable once confirmed, so those of the whole series filtered by
    // `confirmed_at <= t` are exactly those of the prefix up to t.
    let all = pivots(candles, p.k);

    // First pass: the real zones at every bar; second: their evaluation and the baseline.
    let mut zones: Vec<(usize, Option<Zone>, Option<Zone>)> = Vec::new();
    let mut prices: Vec<f64> = Vec::new();
    for t in start..n - p.horizon - 1 {
        let atr_t = atrs[t];
        let close = cl[t];
        let eps = (0.005 * close).max(0.5 * atr_t);
        prices.clear();
        prices.extend(
            all.iter()
                .filter(|pv| pv.confirmed_at <= t && pv.index + p.lookback > t)
                .map(|pv| pv.price),
        );
        prices.sort_by(f64::total_cmp);
        let (mut best_s, mut best_r): (Option<Zone>, Option<Zone>) = (None, None);
        let mut i = 0;
        while i < prices.len() {
            let mut j = i;
            while j + 1 < prices.len() && prices[j + 1] - prices[j] <= eps {
                j += 1;
            }
            let z = Zone {
                lo: prices[i] - 0.25 * atr_t,
                hi: prices[j] + 0.25 * atr_t,
            };
            if z.hi < close {
                best_s = Some(z);
            } else if z.lo > close && best_r.is_none() {
                best_r = Some(z);
            }
            i = j + 1;
        }
        zones.push((t, best_s, best_r));
    }
    let dist_s: Vec<(f64, f64)> = zones
        .iter()
        .filter_map(|&(t, s, _)| s.map(|z| (cl[t] - z.hi, z.hi - z.lo)))
        .collect();
    let dist_r: Vec<(f64, f64)> = zones
        .iter()
        .filter_map(|&(t, _, r)| r.map(|z| (z.lo - cl[t], z.hi - z.lo)))
        .collect();
    let mut rng = SplitMix(p.seed);
    let total = zones.len();
    for (done, &(t, s, r)) in zones.iter().enumerate() {
        report.bars_tested += 1;
        let atr_t = atrs[t];
        for (zone, support, pool) in [(s, true, &dist_s), (r, false, &dist_r)] {
            let Some(z) = zone else { continue };
            if let Some(b) = evaluate(candles, t, z, support, atr_t, p.horizon) {
                report.touches += 1;
                report.bounces += usize::from(b);
            }
            let (d, w) = pool[rng.below(pool.len())];
            let rz = if support {
                Zone {
                    lo: cl[t] - d - w,
                    hi: cl[t] - d,
                }
            } else {
                Zone {
                    lo: cl[t] + d,
                    hi: cl[t] + d + w,
                }
            };
            if let Some(b) = evaluate(candles, t, rz, support, atr_t, p.horizon) {
                report.baseline_touches += 1;
                report.baseline_bounces += usize::from(b);
            }
        }
        if done % 1024 == 0 {
            progress(done, total);
        }
    }
    progress(total, total);
    report
}
