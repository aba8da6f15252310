//! Level quality (`canary backtest levels`, `MODELS.md` §5.1 validation), walk-forward.
//!
//! At every test bar t the levels are those [`find_levels`] reports from the bars up to t
//! (its zones, its `broken_if` rule): the nearest support and resistance. A **touch** is the
//! next bar entering a zone from outside. Its **outcome**, over the `horizon` bars from the
//! touch on: a **bounce** when price reaches 1 ATR (as of t) beyond the zone in the bounce's
//! direction before any close breaks it; a **break** when a close goes past the level's
//! `broken_if` line (0.5 ATR beyond the zone) first, or in the same bar; **expired** when
//! neither happens. The bounce rate is bounces per touch.
//!
//! The **baseline** places, at the same bars and sides, random zones whose distance from the
//! close and whose width are drawn, in ATR at the bar, from the real zones' own distances and
//! widths, judged by the same rule; it is drawn for `seeds` seeds and pooled. The **lift** is
//! the real bounce rate over the baseline's; its 90 % interval comes from a moving-block
//! bootstrap over the test bars (blocks of `block` bars), which keeps the dependence between
//! neighbouring touches.

use canary_model::{Candle, Symbol, Timeframe, Timestamp};

use super::{LevelParams, find_levels};
use crate::score::validate::{SplitMix, quantile};
use crate::series::Bars;

/// The walk-forward bounce rate at the levels: bounces per touch (this module's doc).
pub const BOUNCE_RATE: canary_model::Method =
    canary_model::Method::new("backtest_levels_bounce", 2);
/// The same rate at random zones scaled in ATR, pooled over seeds.
pub const BASELINE_RATE: canary_model::Method =
    canary_model::Method::new("backtest_levels_baseline", 2);
/// One value over another (the lift: bounce rate / baseline rate).
pub const RATIO: canary_model::Method = canary_model::Method::new("ratio", 1);

/// Which reported level on each side is tested: the nearest one that passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The nearest level, as `canary levels` reports it first (method v1).
    Nearest,
    /// The nearest with at least two pivots in its zone.
    Touched,
    /// The nearest that a volume-profile node confirms.
    Volume,
    /// The nearest that two or more methods agree on.
    Confluence,
    /// The nearest with strength at least 0.5.
    Strong,
    /// The nearest, with zones of ± 0.5 ATR around each level instead of its pivots' span.
    AtrZone,
    /// The nearest anchored VWAP (from the window's highest high or lowest low).
    Avwap,
}

impl Variant {
    pub const ALL: [Variant; 7] = [
        Variant::Nearest,
        Variant::Touched,
        Variant::Volume,
        Variant::Confluence,
        Variant::Strong,
        Variant::AtrZone,
        Variant::Avwap,
    ];

    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Variant::Nearest => "nearest",
            Variant::Touched => "touched",
            Variant::Volume => "volume",
            Variant::Confluence => "confluence",
            Variant::Strong => "strong",
            Variant::AtrZone => "atr_zone",
            Variant::Avwap => "avwap",
        }
    }

    fn accepts(self, l: &super::Level) -> bool {
        match self {
            Variant::Nearest | Variant::AtrZone => true,
            Variant::Touched => l.touches >= 2,
            Variant::Volume => l.methods.iter().any(|m| m.starts_with("vp_")),
            Variant::Confluence => l.methods.len() >= 2,
            Variant::Strong => l.strength >= 0.5,
            Variant::Avwap => l.methods.iter().any(|m| m.starts_with("avwap")),
        }
    }

    /// The level settings the variant builds its levels with.
    #[must_use]
    pub fn levels(self, base: LevelParams) -> LevelParams {
        match self {
            Variant::AtrZone => LevelParams {
                zone_atr: Some(0.5),
                ..base
            },
            Variant::Avwap => LevelParams {
                avwap: true,
                ..base
            },
            _ => base,
        }
    }
}

/// Settings for [`backtest_levels`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BacktestParams {
    /// The levels tested, as `canary levels` finds them.
    pub levels: LevelParams,
    /// Which of them.
    pub variant: Variant,
    /// Bars from the touch in which the outcome is decided.
    pub horizon: usize,
    /// Bars before the first test.
    pub warmup: usize,
    /// Baseline seeds (1..=seeds).
    pub seeds: u64,
    /// Bootstrap block length (bars) and resamples.
    pub block: usize,
    pub reps: usize,
}

impl Default for BacktestParams {
    fn default() -> Self {
        BacktestParams {
            levels: LevelParams::default(),
            variant: Variant::Nearest,
            horizon: 10,
            warmup: 100,
            seeds: 20,
            block: 50,
            reps: 1000,
        }
    }
}

/// What became of a touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Bounce,
    Break,
    Expired,
}

/// Counts of outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    pub touches: usize,
    pub bounces: usize,
    pub breaks: usize,
}

impl Tally {
    fn add(&mut self, o: Outcome) {
        self.touches += 1;
        match o {
            Outcome::Bounce => self.bounces += 1,
            Outcome::Break => self.breaks += 1,
            Outcome::Expired => {}
        }
    }

    fn merge(&mut self, o: &Tally) {
        self.touches += o.touches;
        self.bounces += o.bounces;
        self.breaks += o.breaks;
    }

    /// Bounces per touch.
    #[must_use]
    pub fn rate(&self) -> f64 {
        self.bounces as f64 / self.touches.max(1) as f64
    }
}

/// The measured rates.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BacktestReport {
    pub bars_tested: usize,
    pub levels: Tally,
    /// Random zones, pooled over the seeds.
    pub baseline: Tally,
    pub seeds: u64,
    /// Real bounce rate / baseline bounce rate.
    pub lift: f64,
    /// 90 % moving-block bootstrap interval of the lift.
    pub lift_interval: Option<(f64, f64)>,
    /// The lift against each seed's baseline alone: lowest and highest.
    pub lift_by_seed: (f64, f64),
    /// Mean width of the tested zones, in ATR.
    pub mean_zone_atr: f64,
}

/// A zone [lo, hi] on one side of the price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Zone {
    pub lo: f64,
    pub hi: f64,
}

/// Does bar `t + 1` enter the zone from outside (bar `t` wholly on the zone's far side)?
#[must_use]
pub fn entered(c: &[Candle], t: usize, z: Zone, support: bool) -> bool {
    let u = t + 1;
    if support {
        c[t].low > z.hi && c[u].low <= z.hi
    } else {
        c[t].high < z.lo && c[u].high >= z.lo
    }
}

/// The outcome of a touch at bar `u`, over bars `u..=u + horizon` (this module's doc).
#[must_use]
pub fn outcome(
    c: &[Candle],
    u: usize,
    z: Zone,
    support: bool,
    atr: f64,
    horizon: usize,
) -> Outcome {
    let end = (u + horizon).min(c.len() - 1);
    for b in &c[u..=end] {
        let (broke, bounced) = if support {
            (b.close < z.lo - 0.5 * atr, b.high >= z.hi + atr)
        } else {
            (b.close > z.hi + 0.5 * atr, b.low <= z.lo - atr)
        };
        if broke {
            return Outcome::Break;
        }
        if bounced {
            return Outcome::Bounce;
        }
    }
    Outcome::Expired
}

/// The nearest support and resistance zones `find_levels` reports from the bars up to `t`
/// (no later bar is read), with the ATR: `None` when there are too few bars.
fn zones_at(
    symbol: &Symbol,
    tf: Timeframe,
    candles: &[Candle],
    t: usize,
    lp: &LevelParams,
    variant: Variant,
) -> Option<TestBar> {
    let from = (t + 1).saturating_sub(lp.lookback);
    let bars = Bars {
        symbol,
        timeframe: tf,
        source: "backtest",
        candles: &candles[from..=t],
    };
    let r = find_levels(&bars, lp, tf.close_of(candles[t].open_time), None).ok()?;
    let pick = |ls: &[super::Level]| {
        ls.iter().find(|l| variant.accepts(l)).map(|l| Zone {
            lo: l.zone.0,
            hi: l.zone.1,
        })
    };
    Some(TestBar {
        t,
        atr: r.atr,
        zones: [pick(&r.supports), pick(&r.resistances)],
    })
}

/// One test bar: the real zones (support, resistance) and the ATR.
#[derive(Debug, Clone, PartialEq)]
struct TestBar {
    t: usize,
    atr: f64,
    zones: [Option<Zone>; 2],
}

/// Walk forward over `candles` (one timeframe, time order).
#[must_use]
pub fn backtest_levels(
    symbol: &Symbol,
    tf: Timeframe,
    candles: &[Candle],
    p: &BacktestParams,
    mut progress: impl FnMut(usize, usize),
) -> BacktestReport {
    let n = candles.len();
    let start = p.warmup.max(2 * p.levels.k + 15);
    let mut tests: Vec<TestBar> = Vec::new();
    if n >= start + p.horizon + 2 {
        let total = n - p.horizon - 1 - start;
        for (done, t) in (start..n - p.horizon - 1).enumerate() {
            if let Some(tb) = zones_at(
                symbol,
                tf,
                candles,
                t,
                &p.variant.levels(p.levels),
                p.variant,
            ) {
                tests.push(tb);
            }
            if done % 256 == 0 {
                progress(done, total);
            }
        }
        progress(total, total);
    }
    // The real zones' distances and widths in ATR, per side, for the baseline.
    let mut pools: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
    let mut width_sum = (0.0, 0usize);
    for tb in &tests {
        let close = candles[tb.t].close;
        for (side, z) in tb.zones.iter().enumerate() {
            if let Some(z) = z {
                let d = if side == 0 {
                    close - z.hi
                } else {
                    z.lo - close
                };
                pools[side].push((d / tb.atr, (z.hi - z.lo) / tb.atr));
                width_sum.0 += (z.hi - z.lo) / tb.atr;
                width_sum.1 += 1;
            }
        }
    }
    // Outcomes per test bar: the real zones', and each seed's random zones'.
    let seeds = p.seeds.max(1);
    let mut real: Vec<Tally> = Vec::with_capacity(tests.len());
    let mut base: Vec<Vec<Tally>> =
        vec![Vec::with_capacity(tests.len()); usize::try_from(seeds).unwrap_or(1)];
    let mut rngs: Vec<SplitMix> = (1..=seeds)
        .map(|s| SplitMix::new(s.wrapping_mul(0x5851_f42d_4c95_7f2d)))
        .collect();
    for tb in &tests {
        let close = candles[tb.t].close;
        let mut r = Tally::default();
        let mut b: Vec<Tally> = vec![Tally::default(); rngs.len()];
        for (side, z) in tb.zones.iter().enumerate() {
            let support = side == 0;
            if let Some(z) = z
                && entered(candles, tb.t, *z, support)
            {
                r.add(outcome(candles, tb.t + 1, *z, support, tb.atr, p.horizon));
            }
            if z.is_none() || pools[side].is_empty() {
                continue;
            }
            for (k, rng) in rngs.iter_mut().enumerate() {
                let (d, w) = pools[side][rng.below(pools[side].len())];
                let rz = if support {
                    Zone {
                        lo: close - (d + w) * tb.atr,
                        hi: close - d * tb.atr,
                    }
                } else {
                    Zone {
                        lo: close + d * tb.atr,
                        hi: close + (d + w) * tb.atr,
                    }
                };
                if entered(candles, tb.t, rz, support) {
                    b[k].add(outcome(candles, tb.t + 1, rz, support, tb.atr, p.horizon));
                }
            }
        }
        real.push(r);
        for (k, t) in b.into_iter().enumerate() {
            base[k].push(t);
        }
    }
    let sum = |v: &[Tally]| {
        let mut s = Tally::default();
        for t in v {
            s.merge(t);
        }
        s
    };
    let levels = sum(&real);
    let pooled: Vec<Tally> = (0..tests.len())
        .map(|i| {
            let mut s = Tally::default();
            for b in &base {
                s.merge(&b[i]);
            }
            s
        })
        .collect();
    let baseline = sum(&pooled);
    let lift = levels.rate() / baseline.rate();
    let by_seed: Vec<f64> = base.iter().map(|b| levels.rate() / sum(b).rate()).collect();
    let lift_by_seed = (
        by_seed.iter().copied().fold(f64::INFINITY, f64::min),
        by_seed.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    // Moving-block bootstrap over test bars.
    let m = tests.len();
    let block = p.block.clamp(1, m.max(1));
    let lift_interval = (m >= 2 * block).then(|| {
        let mut rng = SplitMix::new(0x001e_7e15);
        let mut lifts = Vec::with_capacity(p.reps);
        for _ in 0..p.reps {
            let (mut r, mut b) = (Tally::default(), Tally::default());
            let mut taken = 0;
            while taken < m {
                let s = rng.below(m - block + 1);
                for i in s..s + block {
                    r.merge(&real[i]);
                    b.merge(&pooled[i]);
                }
                taken += block;
            }
            if r.touches > 0 && b.bounces > 0 {
                lifts.push(r.rate() / b.rate());
            }
        }
        lifts.sort_by(f64::total_cmp);
        (quantile(&lifts, 0.05), quantile(&lifts, 0.95))
    });
    let mean_zone_atr = width_sum.0 / width_sum.1.max(1) as f64;
    BacktestReport {
        bars_tested: tests.len(),
        levels,
        baseline,
        seeds,
        lift,
        lift_interval,
        lift_by_seed,
        mean_zone_atr,
    }
}

/// The first open time tested (for reports): the bar after the warm-up.
#[must_use]
pub fn first_tested(candles: &[Candle], p: &BacktestParams) -> Option<Timestamp> {
    candles
        .get(p.warmup.max(2 * p.levels.k + 15))
        .map(|c| c.open_time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const H: i64 = 86_400_000;

    fn bar(i: i64, o: f64, h: f64, l: f64, c: f64) -> Candle {
        Candle::new(Timestamp::from_millis(i * H), o, h, l, c, 1.0, None, None).unwrap()
    }

    fn series(rows: &[(f64, f64, f64, f64)]) -> Vec<Candle> {
        rows.iter()
            .enumerate()
            .map(|(i, &(o, h, l, c))| bar(i64::try_from(i).unwrap(), o, h, l, c))
            .collect()
    }

    #[test]
    fn touches_bounce_break_or_expire_by_the_first_event() {
        let z = Zone {
            lo: 98.0,
            hi: 100.0,
        };
        // Bar 0 above the zone, bar 1 enters it, bar 2 rises 1 ATR (2) above its top.
        let c = series(&[
            (105.0, 106.0, 101.0, 104.0),
            (104.0, 104.0, 99.0, 100.5),
            (100.5, 102.5, 100.0, 102.0),
        ]);
        assert!(entered(&c, 0, z, true));
        assert_eq!(outcome(&c, 1, z, true, 2.0, 5), Outcome::Bounce);
        // A close below the zone by 0.5 ATR first: a break, whatever follows.
        let c = series(&[
            (105.0, 106.0, 101.0, 104.0),
            (104.0, 104.0, 96.0, 96.5),
            (96.5, 103.0, 96.0, 102.5),
        ]);
        assert_eq!(outcome(&c, 1, z, true, 2.0, 5), Outcome::Break);
        // Both in the touch bar: a break (the conservative reading).
        let c = series(&[(105.0, 106.0, 101.0, 104.0), (101.0, 102.5, 95.0, 96.0)]);
        assert_eq!(outcome(&c, 1, z, true, 2.0, 5), Outcome::Break);
        // Neither within the horizon: expired.
        let c = series(&[
            (105.0, 106.0, 101.0, 104.0),
            (101.0, 101.0, 99.0, 100.0),
            (100.0, 101.0, 99.0, 100.0),
        ]);
        assert_eq!(outcome(&c, 1, z, true, 2.0, 1), Outcome::Expired);
        // Resistance mirrors it; a bar already inside does not enter.
        let r = Zone {
            lo: 110.0,
            hi: 112.0,
        };
        let c = series(&[
            (105.0, 108.0, 104.0, 107.0),
            (107.0, 111.0, 106.0, 110.0),
            (110.0, 110.5, 107.5, 108.0),
        ]);
        assert!(entered(&c, 0, r, false));
        assert_eq!(outcome(&c, 1, r, false, 2.0, 5), Outcome::Bounce);
        assert!(!entered(&c, 1, r, false));
    }

    /// A deterministic random walk.
    fn walk(n: usize, seed: u64) -> Vec<Candle> {
        let mut rng = SplitMix::new(seed);
        let mut price = 100.0;
        (0..n)
            .map(|i| {
                let u = (rng.next_u64() % 2001) as f64 / 1000.0 - 1.0;
                let o = price;
                price *= 1.0 + 0.02 * u;
                let (h, l) = (o.max(price) * 1.005, o.min(price) * 0.995);
                bar(i64::try_from(i).unwrap(), o, h, l, price)
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Whatever follows bar t, the zones tested at t are the same.
        #[test]
        fn zones_at_t_ignore_every_later_bar(cut in 60usize..250, seed in 0u64..1000, scale in 0.2f64..5.0) {
            let sym = Symbol::new("TEST").unwrap();
            let c = walk(260, 7);
            let mut other = c[..=cut].to_vec();
            other.extend(walk(260, seed)[cut + 1..].iter().enumerate().map(|(i, b)| {
                bar(i64::try_from(cut + 1 + i).unwrap(), b.open * scale, b.high * scale, b.low * scale, b.close * scale)
            }));
            let lp = LevelParams { lookback: 200, ..LevelParams::default() };
            prop_assert_eq!(
                zones_at(&sym, Timeframe::D1, &c, cut, &lp, Variant::Nearest),
                zones_at(&sym, Timeframe::D1, &other, cut, &lp, Variant::Nearest)
            );
        }
    }

    #[test]
    fn no_look_ahead_and_zones_are_those_reported() {
        let sym = Symbol::new("TEST").unwrap();
        let c = walk(400, 7);
        let lp = LevelParams {
            lookback: 200,
            ..LevelParams::default()
        };
        // Zones at t are the same whatever follows t.
        let mut other = c[..300].to_vec();
        other.extend(walk(400, 99)[300..].iter().enumerate().map(|(i, b)| {
            bar(
                300 + i64::try_from(i).unwrap(),
                b.open * 3.0,
                b.high * 3.0,
                b.low * 3.0,
                b.close * 3.0,
            )
        }));
        for t in [120, 200, 299] {
            assert_eq!(
                zones_at(&sym, Timeframe::D1, &c, t, &lp, Variant::Nearest),
                zones_at(&sym, Timeframe::D1, &other, t, &lp, Variant::Nearest),
                "t = {t}"
            );
        }
        let p = BacktestParams {
            levels: lp,
            warmup: 100,
            seeds: 3,
            reps: 50,
            ..BacktestParams::default()
        };
        let a = backtest_levels(&sym, Timeframe::D1, &c, &p, |_, _| {});
        assert!(a.levels.touches > 0, "{a:?}");
        assert!(a.baseline.touches > 0, "{a:?}");
        // The tested zones are the levels' own: zone = pivots' range ± 0.25 ATR, clusters capped.
        assert!(
            a.mean_zone_atr > 0.4 && a.mean_zone_atr < 3.0,
            "{}",
            a.mean_zone_atr
        );
        assert!(a.lift.is_finite());
        assert!(a.lift_by_seed.0 <= a.lift_by_seed.1);
    }
}
