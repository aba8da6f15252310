//! The liquidation map judged against null models, walk-forward (the protocol of
//! `docs/liquidation-map.md`, fixed before the first run): each day, what the map predicts the
//! next day's range will liquidate on each side, against the same total placed by a
//! volatility cone and uniformly; scored by the overlap of predicted and realised liquidations
//! over days, with a moving-block bootstrap of the lift.

use canary_model::Method;
use serde::Serialize;

use super::{LiquidationMap, MapBar, MapParams};
use crate::score::validate::{SplitMix, quantile, resample_blocks};

/// This backtest, version 1.
pub const LIQMAP_BACKTEST: Method = Method::new("liquidation_map_backtest", 1);

const DAY_MS: i64 = 86_400_000;

/// One day: its bar (open time, high, low, close), the open interest at its close, and the
/// realised long and short liquidations of the day, when known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Day {
    pub open_ms: i64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub oi_usd: f64,
    pub realised: Option<(f64, f64)>,
}

/// The protocol's fixed choices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestConfig {
    /// Evaluation folds `[start, end)` in ms, in order.
    pub folds: Vec<(i64, i64)>,
    pub grid: Vec<MapParams>,
    /// The cone's scale candidates, in 30-day standard deviations.
    pub cone_ks: Vec<f64>,
    /// The uniform null's largest log-distance.
    pub uniform_max: f64,
    pub block: usize,
    pub resamples: usize,
    pub seed: u64,
}

impl BacktestConfig {
    /// The protocol of 2026-12-07: folds of the calendar years 2022 to 2025, the map's grid of
    /// nine, cone scales {1, 2, 4, 8}, uniform to 0.5, blocks of 20 days, 2,000 resamples,
    /// seed 21.
    #[must_use]
    pub fn protocol() -> Self {
        // 2022-01-01 … 2026-01-01 at midnight UTC.
        let years = [
            1_640_995_200_000,
            1_672_531_200_000,
            1_704_067_200_000,
            1_735_689_600_000,
            1_767_225_600_000,
        ];
        BacktestConfig {
            folds: years.windows(2).map(|w| (w[0], w[1])).collect(),
            grid: MapParams::grid(),
            cone_ks: vec![1.0, 2.0, 4.0, 8.0],
            uniform_max: 0.5,
            block: 20,
            resamples: 2000,
            seed: 21,
        }
    }
}

/// A lift with its bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Lift {
    pub point: f64,
    /// The 90 % interval.
    pub lo: f64,
    pub hi: f64,
}

/// One side's result over the evaluation days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideResult {
    pub days: usize,
    pub overlap_map: f64,
    pub overlap_cone: f64,
    pub overlap_uniform: f64,
    pub spearman_map: Option<f64>,
    pub spearman_cone: Option<f64>,
    pub lift_over_cone: Option<Lift>,
    pub lift_over_uniform: Option<Lift>,
}

/// What each fold chose on the days before it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoldChoice {
    pub start_ms: i64,
    pub end_ms: i64,
    /// Index into the grid, and the parameters.
    pub params: usize,
    pub decay_days: f64,
    pub max_leverage: f64,
    pub cone_k: f64,
    pub days: usize,
}

/// The backtest's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiqmapBacktest {
    pub long: SideResult,
    pub short: SideResult,
    pub folds: Vec<FoldChoice>,
}

/// `Φ(x)` of the standard normal (Abramowitz & Stegun 7.1.26, error below 1.5e-7).
fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// The overlap of two series each scaled to sum to 1; `None` when either sums to 0.
#[must_use]
pub fn overlap(p: &[f64], r: &[f64]) -> Option<f64> {
    let (sp, sr) = (p.iter().sum::<f64>(), r.iter().sum::<f64>());
    (sp > 0.0 && sr > 0.0).then(|| p.iter().zip(r).map(|(a, b)| (a / sp).min(b / sr)).sum())
}

fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation (ties averaged); `None` when a side is constant.
#[must_use]
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

/// Each day's predictions for the next day: per grid entry the map's (long, short) and its
/// totals at the close before.
struct Predictions {
    /// `[grid][day]`: the map's predicted (long, short) for that day, and its (long, short)
    /// totals at the previous close.
    map: Vec<Vec<(f64, f64, f64, f64)>>,
    /// `[day]`: the (long, short) log-distances the day's range reached from the previous
    /// close, and the 30-day standard deviation of daily log returns at that close.
    reach: Vec<Option<(f64, f64, f64)>>,
}

fn predict(days: &[Day], grid: &[MapParams]) -> Predictions {
    let map = grid
        .iter()
        .map(|params| {
            let mut m = LiquidationMap::new(params.clone());
            days.iter()
                .map(|d| {
                    let (tl, ts) = m.totals();
                    let e = m.step(&MapBar {
                        close_ms: d.open_ms + DAY_MS,
                        oi_usd: d.oi_usd,
                        high: d.high,
                        low: d.low,
                        close: d.close,
                    });
                    (e.long_consumed, e.short_consumed, tl, ts)
                })
                .collect()
        })
        .collect();
    let reach = (0..days.len())
        .map(|i| {
            if i < 31 {
                return None;
            }
            let prev = days[i - 1].close;
            let rets: Vec<f64> = (i - 30..i)
                .map(|k| (days[k].close / days[k - 1].close).ln())
                .collect();
            let mean = rets.iter().sum::<f64>() / 30.0;
            let sd = (rets.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / 29.0).sqrt();
            Some((
                (prev / days[i].low).ln().max(0.0),
                (days[i].high / prev).ln().max(0.0),
                sd,
            ))
        })
        .collect();
    Predictions { map, reach }
}

/// The cone's and the uniform null's predictions for day `i` (long, short).
fn nulls(
    p: &Predictions,
    g: usize,
    i: usize,
    k: f64,
    uniform_max: f64,
) -> Option<((f64, f64), (f64, f64))> {
    let (xl, xs, sd) = p.reach[i]?;
    let (_, _, tl, ts) = p.map[g][i];
    if sd <= 0.0 {
        return None;
    }
    let half = |x: f64| 2.0 * normal_cdf(x / (k * sd)) - 1.0;
    Some((
        (tl * half(xl), ts * half(xs)),
        (
            tl * (xl / uniform_max).min(1.0),
            ts * (xs / uniform_max).min(1.0),
        ),
    ))
}

/// Mean of the long and short overlaps of the map `g` (or, with `cone = Some(k)`, of the cone
/// on `g`'s totals) on the days `idx`.
fn score(days: &[Day], p: &Predictions, g: usize, cone: Option<f64>, idx: &[usize]) -> f64 {
    let (mut pl, mut ps, mut rl, mut rs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &i in idx {
        let Some((l, s)) = days[i].realised else {
            continue;
        };
        let (ml, ms) = match cone {
            None => (p.map[g][i].0, p.map[g][i].1),
            Some(k) => match nulls(p, g, i, k, 0.5) {
                Some((c, _)) => c,
                None => continue,
            },
        };
        pl.push(ml);
        ps.push(ms);
        rl.push(l);
        rs.push(s);
    }
    f64::midpoint(
        overlap(&pl, &rl).unwrap_or(0.0),
        overlap(&ps, &rs).unwrap_or(0.0),
    )
}

fn lift(p: &[f64], q: &[f64], r: &[f64], c: &BacktestConfig) -> Option<Lift> {
    let point = overlap(p, r)? / overlap(q, r)?;
    let n = r.len();
    let block = c.block.clamp(1, n);
    if n < 2 * block {
        return None;
    }
    let mut rng = SplitMix::new(c.seed);
    let mut idx = Vec::with_capacity(n + block);
    let mut lifts = Vec::with_capacity(c.resamples);
    for _ in 0..c.resamples {
        resample_blocks(&mut rng, n, block, &mut idx);
        let pick = |v: &[f64]| idx.iter().map(|&k| v[k]).collect::<Vec<f64>>();
        if let (Some(a), Some(b)) = (overlap(&pick(p), &pick(r)), overlap(&pick(q), &pick(r)))
            && b > 0.0
        {
            lifts.push(a / b);
        }
    }
    lifts.sort_by(f64::total_cmp);
    Some(Lift {
        point,
        lo: quantile(&lifts, 0.05),
        hi: quantile(&lifts, 0.95),
    })
}

fn side(map: &[f64], cone: &[f64], unif: &[f64], real: &[f64], c: &BacktestConfig) -> SideResult {
    SideResult {
        days: real.len(),
        overlap_map: overlap(map, real).unwrap_or(0.0),
        overlap_cone: overlap(cone, real).unwrap_or(0.0),
        overlap_uniform: overlap(unif, real).unwrap_or(0.0),
        spearman_map: spearman(map, real),
        spearman_cone: spearman(cone, real),
        lift_over_cone: lift(map, cone, real, c),
        lift_over_uniform: lift(map, unif, real, c),
    }
}

/// Run the backtest on `days` (consecutive days in order; only days with realised
/// liquidations are scored).
#[must_use]
pub fn backtest(days: &[Day], c: &BacktestConfig) -> LiqmapBacktest {
    let p = predict(days, &c.grid);
    let scored = |i: usize| i > 0 && days[i].realised.is_some() && p.reach[i].is_some();
    let mut out: [Vec<Vec<f64>>; 2] = Default::default();
    for o in &mut out {
        *o = vec![Vec::new(); 4];
    }
    let mut folds = Vec::new();
    for &(start, end) in &c.folds {
        let before: Vec<usize> = (0..days.len())
            .filter(|&i| days[i].open_ms < start && scored(i))
            .collect();
        let during: Vec<usize> = (0..days.len())
            .filter(|&i| days[i].open_ms >= start && days[i].open_ms < end && scored(i))
            .collect();
        if before.is_empty() || during.is_empty() {
            continue;
        }
        let best = |f: &dyn Fn(usize) -> f64, n: usize| {
            (0..n).max_by(|&a, &b| f(a).total_cmp(&f(b))).unwrap_or(0)
        };
        let g = best(&|g| score(days, &p, g, None, &before), c.grid.len());
        let k = c.cone_ks[best(
            &|k| score(days, &p, g, Some(c.cone_ks[k]), &before),
            c.cone_ks.len(),
        )];
        for &i in &during {
            let (l, s) = days[i].realised.expect("scored days have them");
            let Some((cone, unif)) = nulls(&p, g, i, k, c.uniform_max) else {
                continue;
            };
            let (ml, ms, _, _) = p.map[g][i];
            for (o, vals) in out
                .iter_mut()
                .zip([[ml, cone.0, unif.0, l], [ms, cone.1, unif.1, s]])
            {
                for (col, v) in o.iter_mut().zip(vals) {
                    col.push(v);
                }
            }
        }
        folds.push(FoldChoice {
            start_ms: start,
            end_ms: end,
            params: g,
            decay_days: c.grid[g].decay_days,
            max_leverage: c.grid[g].tiers.iter().map(|t| t.0).fold(0.0, f64::max),
            cone_k: k,
            days: during.len(),
        });
    }
    let [l, s] = out;
    LiqmapBacktest {
        long: side(&l[0], &l[1], &l[2], &l[3], c),
        short: side(&s[0], &s[1], &s[2], &s[3], c),
        folds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_spearman_and_the_normal_cdf() {
        assert_eq!(overlap(&[1.0, 1.0], &[2.0, 2.0]), Some(1.0));
        assert_eq!(overlap(&[1.0, 0.0], &[0.0, 5.0]), Some(0.0));
        assert!(
            (overlap(&[1.0, 1.0, 1.0, 1.0], &[4.0, 0.0, 0.0, 0.0]).unwrap() - 0.25).abs() < 1e-12
        );
        assert_eq!(overlap(&[0.0], &[1.0]), None);
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-9);
        assert!((normal_cdf(1.96) - 0.975_002).abs() < 1e-6);
        assert!((normal_cdf(-1.0) - 0.158_655).abs() < 1e-6);
    }

    /// A world where liquidations are exactly what a map with the reference parameters
    /// predicts: the map's lift over the nulls is far above 1 and the walk-forward finds the
    /// parameters that made the data.
    #[test]
    fn a_map_that_made_the_data_beats_the_nulls() {
        let mut rng = SplitMix::new(5);
        let mut close: f64 = 30_000.0;
        let mut oi = 1e10;
        let mut days = Vec::new();
        for d in 0..2200 {
            let u = |r: &mut SplitMix| (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let ret = (u(&mut rng) - 0.5) * 0.08;
            let open = close;
            close = open * (1.0 + ret);
            let high = open.max(close) * (1.0 + u(&mut rng) * 0.02);
            let low = open.min(close) * (1.0 - u(&mut rng) * 0.02);
            oi *= 1.0 + (u(&mut rng) - 0.45) * 0.05;
            days.push(Day {
                open_ms: 1_577_836_800_000 + d * DAY_MS,
                high,
                low,
                close,
                oi_usd: oi * close / 30_000.0,
                realised: None,
            });
        }
        let truth = MapParams::grid()[4].clone();
        let mut m = LiquidationMap::new(truth);
        for d in &mut days {
            let e = m.step(&MapBar {
                close_ms: d.open_ms + DAY_MS,
                oi_usd: d.oi_usd,
                high: d.high,
                low: d.low,
                close: d.close,
            });
            d.realised = Some((e.long_consumed, e.short_consumed));
        }
        let c = BacktestConfig {
            resamples: 200,
            ..BacktestConfig::protocol()
        };
        let r = backtest(&days, &c);
        assert_eq!(r.folds.len(), 4);
        assert!(r.folds.iter().all(|f| f.params == 4), "{:?}", r.folds);
        let lift = r.long.lift_over_cone.unwrap();
        assert!((r.long.overlap_map - 1.0).abs() < 1e-9, "{r:?}");
        assert!(lift.point > 1.0 && lift.lo > 1.0, "{lift:?}");
    }
}
