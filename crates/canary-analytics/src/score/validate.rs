//! Validating a score (`MODELS.md` §6.4): the event it should foresee, a calibration fitted
//! walk-forward with purging and an embargo, and the figures that say how well it did —
//! AUC with a block-bootstrap interval, Brier score and skill, reliability, deciles and the
//! noise-to-signal ratio of threshold signals.

use canary_model::Method;

/// Isotonic calibration (pool-adjacent-violators), fitted walk-forward.
pub const ISOTONIC: Method = Method::new("isotonic_walk_forward", 1);

/// The event after day `i`: the largest fall from its close to the lowest low of the next
/// `h` days, as a fraction (0.12 = 12 %), and the close-to-close return over them. `None`
/// when fewer than `h` days follow.
#[must_use]
pub fn forward(close: &[f64], low: &[f64], i: usize, h: usize) -> Option<(f64, f64)> {
    if i + h >= close.len() {
        return None;
    }
    let min_low = low[i + 1..=i + h]
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    Some((
        (1.0 - min_low / close[i]).max(0.0),
        close[i + h] / close[i] - 1.0,
    ))
}

/// A monotone non-decreasing step function from score to probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Isotonic {
    /// Each block's highest score and its probability, ascending.
    blocks: Vec<(f64, f64)>,
}

impl Isotonic {
    /// Fit by pool-adjacent-violators on `(score, event)` pairs (ties pooled first), each
    /// block's probability by the rule of succession. `None` without points.
    #[must_use]
    pub fn fit(points: &[(f64, bool)]) -> Option<Isotonic> {
        let mut p: Vec<(f64, bool)> = points.iter().copied().filter(|x| x.0.is_finite()).collect();
        if p.is_empty() {
            return None;
        }
        p.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Blocks: (max score, sum of events, count).
        let mut blocks: Vec<(f64, f64, f64)> = Vec::new();
        for (x, y) in p {
            let y = if y { 1.0 } else { 0.0 };
            match blocks.last_mut() {
                Some(b) if b.0 == x => {
                    b.1 += y;
                    b.2 += 1.0;
                }
                _ => blocks.push((x, y, 1.0)),
            }
            while blocks.len() >= 2 {
                let n = blocks.len();
                let (a, b) = (blocks[n - 2], blocks[n - 1]);
                if a.1 / a.2 > b.1 / b.2 {
                    blocks[n - 2] = (b.0, a.1 + b.1, a.2 + b.2);
                    blocks.pop();
                } else {
                    break;
                }
            }
        }
        // Each block's rate with Laplace's rule of succession, (events + 1) / (days + 2): a
        // block of a few days all with (or all without) an event is not a certainty. The
        // smoothing can reorder small blocks, so the smoothed rates are pooled once more
        // (weighted by days + 2) to stay non-decreasing.
        let mut pooled: Vec<(f64, f64, f64)> = Vec::with_capacity(blocks.len());
        for (x, s, n) in blocks {
            pooled.push((x, s + 1.0, n + 2.0));
            while pooled.len() >= 2 {
                let k = pooled.len();
                let (a, b) = (pooled[k - 2], pooled[k - 1]);
                if a.1 / a.2 > b.1 / b.2 {
                    pooled[k - 2] = (b.0, a.1 + b.1, a.2 + b.2);
                    pooled.pop();
                } else {
                    break;
                }
            }
        }
        Some(Isotonic {
            blocks: pooled.into_iter().map(|(x, s, n)| (x, s / n)).collect(),
        })
    }

    /// The probability of a score: that of the first block whose highest score reaches it
    /// (the last block's beyond).
    #[must_use]
    pub fn predict(&self, x: f64) -> f64 {
        let i = self.blocks.partition_point(|b| b.0 < x);
        self.blocks[i.min(self.blocks.len() - 1)].1
    }
}

/// Walk-forward probabilities from an isotonic calibration of `scores`, refitted as
/// `purge` says. Also the training base rate each probability can be compared with. `None`
/// where no calibration could be fitted yet, or the day has no score.
#[must_use]
pub fn walk_forward(
    scores: &[f64],
    events: &[Option<bool>],
    purge: &Purge,
) -> Vec<Option<(f64, f64)>> {
    purge.run(
        events,
        |j| scores[j].is_finite(),
        |days| {
            let train: Vec<(f64, bool)> = days
                .iter()
                .map(|&j| (scores[j], events[j] == Some(true)))
                .collect();
            Isotonic::fit(&train)
        },
        |iso, i| iso.predict(scores[i]),
    )
}

/// The walk-forward protocol shared by the calibrations: for each block of `refit_every`
/// days, a fit only on days whose event window (`h` days) closed more than `embargo` days
/// before the block starts (purged: day `j` trains a block starting at `s` only if
/// `j + h + embargo < s`), from at least `min_train` such days with at least `min_events`
/// events.
#[derive(Debug, Clone, Copy)]
pub struct Purge {
    pub h: usize,
    pub embargo: usize,
    pub refit_every: usize,
    pub min_train: usize,
    pub min_events: usize,
}

impl Purge {
    /// For each block of days, `fit` on the purged usable days before it (with a label), and
    /// `predict` each usable day of the block with the fit and the training base rate.
    fn run<M>(
        &self,
        events: &[Option<bool>],
        usable: impl Fn(usize) -> bool,
        fit: impl Fn(&[usize]) -> Option<M>,
        predict: impl Fn(&M, usize) -> f64,
    ) -> Vec<Option<(f64, f64)>> {
        let n = events.len();
        let mut out = vec![None; n];
        let mut start = 0;
        while start < n {
            let end = (start + self.refit_every.max(1)).min(n);
            let train: Vec<usize> = (0..n)
                .take_while(|&j| j + self.h + self.embargo < start)
                .filter(|&j| events[j].is_some() && usable(j))
                .collect();
            let k = train.iter().filter(|&&j| events[j] == Some(true)).count();
            if train.len() >= self.min_train
                && k >= self.min_events
                && let Some(model) = fit(&train)
            {
                let base = k as f64 / train.len() as f64;
                for i in (start..end).filter(|&i| usable(i)) {
                    out[i] = Some((predict(&model, i), base));
                }
            }
            start = end;
        }
        out
    }
}

/// A logistic regression with an L2 penalty, fitted by Newton's method: the weights (the
/// intercept first) of P(event) = 1 / (1 + e^-(w0 + w·x)).
fn logistic_fit(x: &[Vec<f64>], y: &[bool], l2: f64) -> Option<Vec<f64>> {
    let k = x.first()?.len() + 1;
    let mut w = vec![0.0; k];
    for _ in 0..50 {
        let mut g = vec![0.0; k];
        let mut hm = vec![vec![0.0; k]; k];
        for (row, &yi) in x.iter().zip(y) {
            let z = w[0] + row.iter().zip(&w[1..]).map(|(a, b)| a * b).sum::<f64>();
            let p = 1.0 / (1.0 + (-z).exp());
            let r = p - if yi { 1.0 } else { 0.0 };
            let v = (p * (1.0 - p)).max(1e-9);
            let f: Vec<f64> = std::iter::once(1.0).chain(row.iter().copied()).collect();
            for ((ga, ha), fa) in g.iter_mut().zip(&mut hm).zip(&f) {
                *ga += r * fa;
                for (hab, fb) in ha.iter_mut().zip(&f) {
                    *hab += v * fa * fb;
                }
            }
        }
        // The intercept is not penalised.
        for a in 1..k {
            g[a] += l2 * w[a];
            hm[a][a] += l2;
        }
        let step = solve(hm, g)?;
        let mut moved: f64 = 0.0;
        for a in 0..k {
            w[a] -= step[a];
            moved = moved.max(step[a].abs());
        }
        if moved < 1e-9 {
            break;
        }
    }
    w.iter().all(|v| v.is_finite()).then_some(w)
}

/// Solve `a x = b` by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-12 {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        let (top, rest) = a.split_at_mut(c + 1);
        let pivot = &top[c];
        for (off, row) in rest.iter_mut().enumerate() {
            let f = row[c] / pivot[c];
            for (x, p) in row[c..].iter_mut().zip(&pivot[c..]) {
                *x -= f * p;
            }
            b[c + 1 + off] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

/// Walk-forward probabilities from components whose weights are learned: a logistic
/// regression (L2 penalty `l2`) refitted as `purge` says. A component without a
/// value on a day counts as its neutral middle, 0.5; a day without features (an empty row)
/// is neither trained on nor scored. Also the training base rate.
#[must_use]
pub fn walk_forward_logistic(
    features: &[Vec<f64>],
    events: &[Option<bool>],
    purge: &Purge,
    l2: f64,
) -> Vec<Option<(f64, f64)>> {
    let clean = |row: &Vec<f64>| -> Vec<f64> {
        row.iter()
            .map(|v| if v.is_finite() { *v } else { 0.5 })
            .collect()
    };
    let width = features.iter().map(Vec::len).max().unwrap_or(0);
    purge.run(
        events,
        |j| width > 0 && features[j].len() == width,
        |days| {
            let xs: Vec<Vec<f64>> = days.iter().map(|&j| clean(&features[j])).collect();
            let ys: Vec<bool> = days.iter().map(|&j| events[j] == Some(true)).collect();
            logistic_fit(&xs, &ys, l2)
        },
        |w, i| {
            let z = w[0]
                + clean(&features[i])
                    .iter()
                    .zip(&w[1..])
                    .map(|(a, b)| a * b)
                    .sum::<f64>();
            1.0 / (1.0 + (-z).exp())
        },
    )
}

/// ROC AUC (Mann–Whitney, ties counted half). `None` without both classes.
#[must_use]
pub fn auc(scores: &[f64], events: &[bool]) -> Option<f64> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut pos) = (0.0, 0usize);
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if events[k] {
                rank_sum += mid;
                pos += 1;
            }
        }
        i = j + 1;
    }
    let neg = scores.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let (p, q) = (pos as f64, neg as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * q))
}

/// A deterministic generator (SplitMix64) for the bootstrap.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        #[expect(clippy::cast_possible_truncation)]
        let r = (self.next_u64() % n as u64) as usize;
        r
    }
}

/// The `q` quantile (linear interpolation) of sorted values.
#[must_use]
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - pos.floor())
}

/// A moving-block bootstrap of the AUC of `a` and of its gain over `b` on the same days:
/// `reps` resamples of blocks of `block` consecutive days. The (lo, hi) quantiles at
/// `level` (0.90 for a 90 % interval) of AUC(a) and of AUC(a) − AUC(b).
#[must_use]
pub fn bootstrap_auc(
    a: &[f64],
    b: &[f64],
    events: &[bool],
    block: usize,
    reps: usize,
    level: f64,
    seed: u64,
) -> Option<((f64, f64), (f64, f64))> {
    let n = events.len();
    let block = block.clamp(1, n.max(1));
    if n < 2 * block {
        return None;
    }
    let mut rng = SplitMix::new(seed);
    let (mut aucs, mut gains) = (Vec::with_capacity(reps), Vec::with_capacity(reps));
    let mut idx = Vec::with_capacity(n + block);
    for _ in 0..reps {
        resample_blocks(&mut rng, n, block, &mut idx);
        let sa: Vec<f64> = idx.iter().map(|&k| a[k]).collect();
        let sb: Vec<f64> = idx.iter().map(|&k| b[k]).collect();
        let se: Vec<bool> = idx.iter().map(|&k| events[k]).collect();
        if let (Some(x), Some(y)) = (auc(&sa, &se), auc(&sb, &se)) {
            aucs.push(x);
            gains.push(x - y);
        }
    }
    if aucs.len() < reps / 2 {
        return None;
    }
    aucs.sort_by(f64::total_cmp);
    gains.sort_by(f64::total_cmp);
    let t = (1.0 - level) / 2.0;
    Some((
        (quantile(&aucs, t), quantile(&aucs, 1.0 - t)),
        (quantile(&gains, t), quantile(&gains, 1.0 - t)),
    ))
}

/// One moving-block resample of `0..n`: blocks of `block` consecutive indices from random
/// starts until at least `n` are drawn.
pub(crate) fn resample_blocks(rng: &mut SplitMix, n: usize, block: usize, out: &mut Vec<usize>) {
    out.clear();
    while out.len() < n {
        let s = rng.below(n - block + 1);
        out.extend(s..s + block);
    }
}

/// A moving-block bootstrap, as [`bootstrap_auc`], of the Brier gain of probabilities `pa`
/// over `pb` on the same days: the (lo, hi) quantiles at `level` of Brier(b) − Brier(a), so
/// that an interval above zero says `a` forecasts better.
#[must_use]
pub fn bootstrap_brier_gain(
    pa: &[f64],
    pb: &[f64],
    events: &[bool],
    block: usize,
    reps: usize,
    level: f64,
    seed: u64,
) -> Option<(f64, f64)> {
    let n = events.len();
    let block = block.clamp(1, n.max(1));
    if n < 2 * block || reps == 0 {
        return None;
    }
    let mut rng = SplitMix::new(seed);
    let mut gains = Vec::with_capacity(reps);
    let mut idx = Vec::with_capacity(n + block);
    for _ in 0..reps {
        resample_blocks(&mut rng, n, block, &mut idx);
        let se: Vec<bool> = idx.iter().map(|&k| events[k]).collect();
        let sa: Vec<f64> = idx.iter().map(|&k| pa[k]).collect();
        let sb: Vec<f64> = idx.iter().map(|&k| pb[k]).collect();
        gains.push(brier(&sb, &se) - brier(&sa, &se));
    }
    gains.sort_by(f64::total_cmp);
    let t = (1.0 - level) / 2.0;
    Some((quantile(&gains, t), quantile(&gains, 1.0 - t)))
}

/// The Brier score of probabilities against events.
#[must_use]
pub fn brier(p: &[f64], events: &[bool]) -> f64 {
    let n = p.len().max(1) as f64;
    p.iter()
        .zip(events)
        .map(|(p, &e)| (p - if e { 1.0 } else { 0.0 }).powi(2))
        .sum::<f64>()
        / n
}

/// One row of a reliability table: forecasts in `[lo, hi)`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReliabilityRow {
    pub lo: f64,
    pub hi: f64,
    pub count: usize,
    pub mean_forecast: f64,
    pub observed: f64,
}

/// Reliability in `bins` equal bins of the forecast (empty bins left out).
#[must_use]
pub fn reliability(p: &[f64], events: &[bool], bins: usize) -> Vec<ReliabilityRow> {
    let width = 1.0 / bins as f64;
    (0..bins)
        .filter_map(|b| {
            let lo = b as f64 * width;
            let hi = lo + width;
            let idx: Vec<usize> = (0..p.len())
                .filter(|&i| p[i] >= lo && (p[i] < hi || (b + 1 == bins && p[i] <= 1.0)))
                .collect();
            if idx.is_empty() {
                return None;
            }
            let n = idx.len() as f64;
            Some(ReliabilityRow {
                lo,
                hi,
                count: idx.len(),
                mean_forecast: idx.iter().map(|&i| p[i]).sum::<f64>() / n,
                observed: idx.iter().filter(|&&i| events[i]).count() as f64 / n,
            })
        })
        .collect()
}

/// One decile of a score: its range, the event rate, the mean forward return and the
/// median forward drawdown.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DecileRow {
    pub decile: usize,
    pub lo: f64,
    pub hi: f64,
    pub count: usize,
    pub event_rate: f64,
    pub mean_forward_return: f64,
    pub median_forward_drawdown: f64,
}

/// Deciles of `score` (by rank) against the outcomes.
#[must_use]
pub fn deciles(
    score: &[f64],
    events: &[bool],
    fwd_return: &[f64],
    fwd_dd: &[f64],
) -> Vec<DecileRow> {
    let mut idx: Vec<usize> = (0..score.len()).collect();
    idx.sort_by(|&a, &b| score[a].total_cmp(&score[b]).then(a.cmp(&b)));
    let n = idx.len();
    (0..10)
        .filter_map(|d| {
            let part = &idx[d * n / 10..(d + 1) * n / 10];
            if part.is_empty() {
                return None;
            }
            let m = part.len() as f64;
            let mut dds: Vec<f64> = part.iter().map(|&i| fwd_dd[i]).collect();
            dds.sort_by(f64::total_cmp);
            Some(DecileRow {
                decile: d + 1,
                lo: score[part[0]],
                hi: score[part[part.len() - 1]],
                count: part.len(),
                event_rate: part.iter().filter(|&&i| events[i]).count() as f64 / m,
                mean_forward_return: part.iter().map(|&i| fwd_return[i]).sum::<f64>() / m,
                median_forward_drawdown: quantile(&dds, 0.5),
            })
        })
        .collect()
}

/// Threshold signals (Kaminsky, Lizondo & Reinhart 1998): a signal on each day the level is
/// at least `k`; hit rate = signalled events / events, false-alarm rate = signalled
/// non-events / non-events, NSR = false-alarm rate / hit rate (lower is better; ≥ 1 is no
/// better than noise).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SignalRow {
    pub threshold: u8,
    pub signals: usize,
    pub hit_rate: f64,
    pub false_alarm_rate: f64,
    pub nsr: Option<f64>,
}

/// The signal table for levels 1–5.
#[must_use]
pub fn signals(levels: &[u8], events: &[bool]) -> Vec<SignalRow> {
    let pos = events.iter().filter(|&&e| e).count();
    let neg = events.len() - pos;
    (1..=5u8)
        .map(|k| {
            let on = |i: &usize| levels[*i] >= k;
            let hits = (0..events.len()).filter(|i| events[*i] && on(i)).count();
            let fa = (0..events.len()).filter(|i| !events[*i] && on(i)).count();
            let (hr, far) = (
                if pos > 0 {
                    hits as f64 / pos as f64
                } else {
                    f64::NAN
                },
                if neg > 0 {
                    fa as f64 / neg as f64
                } else {
                    f64::NAN
                },
            );
            SignalRow {
                threshold: k,
                signals: hits + fa,
                hit_rate: hr,
                false_alarm_rate: far,
                nsr: (hr > 0.0).then(|| far / hr),
            }
        })
        .collect()
}

/// Independent episodes among event days: runs of events separated by more than `gap`
/// days without one.
#[must_use]
pub fn episodes(events: &[bool], gap: usize) -> usize {
    let mut n = 0;
    let mut last: Option<usize> = None;
    for (i, &e) in events.iter().enumerate() {
        if e {
            if last.is_none_or(|l| i - l > gap) {
                n += 1;
            }
            last = Some(i);
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Purge = Purge {
        h: 7,
        embargo: 7,
        refit_every: 30,
        min_train: 365,
        min_events: 5,
    };
    const P50: Purge = Purge { min_train: 50, ..P };

    #[test]
    fn brier_gain_interval_sides_with_the_better_forecast() {
        let mut r = SplitMix(11);
        let n = 2000;
        let truth: Vec<f64> = (0..n).map(|_| r.below(1000) as f64 / 1000.0).collect();
        let e: Vec<bool> = truth
            .iter()
            .map(|&t| (r.below(1000) as f64 / 1000.0) < t)
            .collect();
        let flat = vec![0.5; n];
        let (lo, hi) = bootstrap_brier_gain(&truth, &flat, &e, 30, 300, 0.90, 1).unwrap();
        assert!(lo > 0.0 && hi > lo, "[{lo}, {hi}]");
        let (lo, hi) = bootstrap_brier_gain(&flat, &truth, &e, 30, 300, 0.90, 1).unwrap();
        assert!(hi < 0.0, "[{lo}, {hi}]");
        // The same forecast against itself gains exactly nothing.
        assert_eq!(
            bootstrap_brier_gain(&truth, &truth, &e, 30, 300, 0.90, 1),
            Some((0.0, 0.0))
        );
    }

    #[test]
    fn learned_weights_find_the_informative_component_from_the_past_only() {
        // Two components: the first raises the event's odds, the second is noise.
        let mut r = SplitMix(7);
        let n = 3000;
        let features: Vec<Vec<f64>> = (0..n)
            .map(|_| vec![r.below(1000) as f64 / 1000.0, r.below(1000) as f64 / 1000.0])
            .collect();
        let events: Vec<Option<bool>> = features
            .iter()
            .map(|f| Some((r.below(1000) as f64 / 1000.0) < 0.05 + 0.4 * f[0]))
            .collect();
        let p = walk_forward_logistic(&features, &events, &P, 1.0);
        let (s, e): (Vec<f64>, Vec<bool>) = (0..n)
            .filter_map(|i| p[i].map(|x| (x.0, events[i].unwrap_or(false))))
            .unzip();
        assert!(auc(&s, &e).unwrap() > 0.65, "{:?}", auc(&s, &e));
        // Nothing before the first year of training days (plus the purge).
        assert!(p[..372].iter().all(Option::is_none));
        // Changing labels after a day changes no probability up to that day.
        let mut later = events.clone();
        for e in &mut later[2000..] {
            *e = Some(true);
        }
        let q = walk_forward_logistic(&features, &later, &P, 1.0);
        assert_eq!(p[..2000], q[..2000]);
    }
    use proptest::prelude::*;

    #[test]
    fn isotonic_pools_violators() {
        let iso = Isotonic::fit(&[(1.0, false), (2.0, true), (3.0, false), (4.0, true)]).unwrap();
        // Blocks {1}: 0/1, {2, 3}: 1/2, {4}: 1/1, each (events + 1) / (days + 2).
        assert_eq!(iso.predict(1.0), 1.0 / 3.0);
        assert_eq!(iso.predict(2.5), 0.5);
        assert_eq!(iso.predict(3.0), 0.5);
        assert_eq!(iso.predict(9.0), 2.0 / 3.0);
        assert_eq!(iso.predict(-9.0), 1.0 / 3.0);
    }

    #[test]
    fn auc_of_perfect_random_and_tied_scores() {
        assert_eq!(
            auc(&[1.0, 2.0, 3.0, 4.0], &[false, false, true, true]),
            Some(1.0)
        );
        assert_eq!(
            auc(&[4.0, 3.0, 2.0, 1.0], &[false, false, true, true]),
            Some(0.0)
        );
        assert_eq!(
            auc(&[1.0, 1.0, 1.0, 1.0], &[false, true, false, true]),
            Some(0.5)
        );
        assert_eq!(auc(&[1.0, 2.0], &[true, true]), None);
    }

    #[test]
    fn forward_drawdown_uses_the_next_days_lows() {
        let close = [100.0, 101.0, 95.0, 99.0];
        let low = [99.0, 90.0, 94.0, 98.0];
        let (dd, ret) = forward(&close, &low, 0, 3).unwrap();
        assert!((dd - 0.10).abs() < 1e-12 && (ret + 0.01).abs() < 1e-12);
        assert_eq!(forward(&close, &low, 1, 3), None);
    }

    #[test]
    fn calibration_never_sees_the_future() {
        // Events on the first half only: were the second half's labels leaking into the
        // fit, its probabilities would change when they change.
        let n = 400;
        let scores: Vec<f64> = (0..n).map(|i| ((i * 37) % 100) as f64).collect();
        let ev = |flip: bool| -> Vec<Option<bool>> {
            (0..n)
                .map(|i| Some(if i < 300 { scores[i] > 70.0 } else { flip }))
                .collect()
        };
        let (a, b) = (
            walk_forward(&scores, &ev(false), &P50),
            walk_forward(&scores, &ev(true), &P50),
        );
        // Days before 300 + 7 + 7 are fitted only on labels before 300: identical.
        for i in 0..315 {
            assert_eq!(a[i], b[i], "day {i}");
        }
        assert!(
            a[..60].iter().all(Option::is_none),
            "too little training at the start"
        );
        assert!(a[100].is_some());
    }

    /// Days, scores and events where a label decides the fit: the score orders the days and
    /// each label is drawn from it, so flipping labels moves the isotonic and logistic fits.
    fn purge_case() -> (Vec<f64>, Vec<Option<bool>>) {
        let mut r = SplitMix(23);
        let n = 400;
        let scores: Vec<f64> = (0..n).map(|_| r.below(1000) as f64 / 10.0).collect();
        let events = scores
            .iter()
            .map(|&x| Some(r.below(100) as f64 / 100.0 < 0.1 + 0.6 * x / 100.0))
            .collect();
        (scores, events)
    }

    /// The labels of the days just before a block, whose event windows are still open at the
    /// block's start (the last `h` days, the purge) or closed less than `embargo` days before
    /// it (the `embargo` days before those), flipped to the opposite.
    fn flip_before(
        events: &[Option<bool>],
        start: usize,
        days: std::ops::Range<usize>,
    ) -> Vec<Option<bool>> {
        let mut e = events.to_vec();
        for j in days {
            e[start - 1 - j] = e[start - 1 - j].map(|x| !x);
        }
        e
    }

    /// The purge: a block's probabilities do not change when the labels of the `h` days before
    /// it change (their windows overlap the block). Without the purge (training on every day
    /// before the block) they would; the next block, which may use those days, shows the
    /// flips matter.
    #[test]
    fn the_purge_keeps_labels_still_open_at_a_block_out_of_its_fit() {
        let (scores, events) = purge_case();
        let features: Vec<Vec<f64>> = scores.iter().map(|x| vec![x / 100.0]).collect();
        let (start, refit) = (300, P50.refit_every);
        let flipped = flip_before(&events, start, 0..P50.h);
        for (name, a, b) in [
            (
                "isotonic",
                walk_forward(&scores, &events, &P50),
                walk_forward(&scores, &flipped, &P50),
            ),
            (
                "logistic",
                walk_forward_logistic(&features, &events, &P50, 1.0),
                walk_forward_logistic(&features, &flipped, &P50, 1.0),
            ),
        ] {
            for i in start..start + refit {
                assert!(a[i].is_some(), "{name}: day {i} forecast");
                assert_eq!(
                    a[i], b[i],
                    "{name}: day {i} saw labels still open at its block"
                );
            }
            assert!(
                (start + refit..start + 2 * refit).any(|i| a[i] != b[i]),
                "{name}: the flipped labels never mattered"
            );
        }
    }

    /// The embargo: a block's probabilities do not change when the labels of the `embargo`
    /// days before the purged ones change. Without the embargo (training on days whose
    /// windows closed by the block's start) they would.
    #[test]
    fn the_embargo_keeps_the_days_next_to_the_purge_out_of_a_blocks_fit() {
        let (scores, events) = purge_case();
        let features: Vec<Vec<f64>> = scores.iter().map(|x| vec![x / 100.0]).collect();
        let (start, refit) = (300, P50.refit_every);
        let flipped = flip_before(&events, start, P50.h..P50.h + P50.embargo);
        for (name, a, b) in [
            (
                "isotonic",
                walk_forward(&scores, &events, &P50),
                walk_forward(&scores, &flipped, &P50),
            ),
            (
                "logistic",
                walk_forward_logistic(&features, &events, &P50, 1.0),
                walk_forward_logistic(&features, &flipped, &P50, 1.0),
            ),
        ] {
            for i in start..start + refit {
                assert_eq!(a[i], b[i], "{name}: day {i} saw embargoed labels");
            }
            assert!(
                (start + refit..start + 2 * refit).any(|i| a[i] != b[i]),
                "{name}: the flipped labels never mattered"
            );
        }
    }

    #[test]
    fn signals_and_episodes() {
        let levels = [1, 5, 5, 1, 3];
        let events = [false, true, true, false, false];
        let s = signals(&levels, &events);
        assert_eq!(s[4].hit_rate, 1.0);
        assert_eq!(s[4].false_alarm_rate, 0.0);
        assert_eq!(s[0].nsr, Some(1.0));
        assert_eq!(
            episodes(
                &[
                    true, true, false, false, true, false, false, false, false, false, true
                ],
                3
            ),
            2
        );
    }

    proptest! {
        #[test]
        fn isotonic_is_monotone_and_within_0_1(pts in proptest::collection::vec((0.0f64..100.0, any::<bool>()), 1..200)) {
            let iso = Isotonic::fit(&pts).unwrap();
            let mut prev = -1.0;
            for x in 0..=100 {
                let p = iso.predict(f64::from(x));
                prop_assert!((0.0..=1.0).contains(&p));
                prop_assert!(p >= prev);
                prev = p;
            }
        }
    }
}
