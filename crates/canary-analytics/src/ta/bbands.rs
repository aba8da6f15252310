//! Dispersion: population standard deviation and Bollinger bands (running sums, as TA-Lib).

use super::window::Ring;
use super::{Indicator, TaError, check_len, check_period};

/// TA-Lib's `TA_IS_ZERO_OR_NEG`: a variance below 1e-8 gives σ = 0.
#[inline]
pub(crate) fn sigma(var: f64) -> f64 {
    if var < 1e-8 { 0.0 } else { var.sqrt() }
}

/// Mean and population variance of the last n values, O(1) per value.
///
/// Plain running sums of x and x² lose digits to cancellation (x² of a $60,000 price is
/// 3.6e9 while the variance may be a few hundred) and drift as they run, far enough to miss
/// TA-Lib by more than 1e-9 after a few thousand bars. So the sums are of deviations from an
/// anchor near the data, and before every value whose index is a multiple of
/// [`reanchor_period`] (once the window is full) the anchor moves to the newest value and the
/// sums are rebuilt exactly from the window: amortised O(1), drift bounded by a few hundred
/// roundings, no cancellation. The fixed schedule lets the fused watch-set kernel re-anchor
/// at the same bars, at the start of its blocks.
#[derive(Debug, Clone)]
pub(crate) struct Moments {
    inv_n: f64,
    period: usize,
    ring: Ring,
    pub(crate) anchor: f64,
    pub(crate) sum: f64,
    pub(crate) sum_sq: f64,
    /// Values pushed so far.
    pub(crate) count: usize,
}

/// The sums are rebuilt every this many values: 256, or the window rounded up to a multiple of
/// 256 (a rebuild costs n additions).
pub(crate) fn reanchor_period(n: usize) -> usize {
    n.div_ceil(REANCHOR) * REANCHOR
}

pub(crate) const REANCHOR: usize = 256;

/// The window's sums of deviations from `anchor`, oldest value first.
#[inline]
pub(crate) fn deviation_sums(window: impl Iterator<Item = f64>, anchor: f64) -> (f64, f64) {
    let (mut s, mut q) = (0.0, 0.0);
    for v in window {
        let d = v - anchor;
        s += d;
        q += d * d;
    }
    (s, q)
}

impl Moments {
    pub(crate) fn new(n: usize) -> Self {
        let inv_n = 1.0 / n as f64;
        Moments {
            inv_n,
            period: reanchor_period(n),
            ring: Ring::new(n),
            anchor: 0.0,
            sum: 0.0,
            sum_sq: 0.0,
            count: 0,
        }
    }

    /// Add x; once the window is full, (mean, variance) of the window ending at x.
    #[inline]
    pub(crate) fn push(&mut self, x: f64) -> Option<(f64, f64)> {
        if self.count == 0 {
            self.anchor = x;
        } else if self.count.is_multiple_of(self.period) && self.ring.is_full() {
            self.anchor = self.ring.newest();
            (self.sum, self.sum_sq) = deviation_sums(self.ring.iter(), self.anchor);
        }
        self.count += 1;
        let d = x - self.anchor;
        // One addition per sum on the dependency chain: the new value less the one leaving.
        if let Some(old) = self.ring.push(x) {
            let e = old - self.anchor;
            self.sum += d - e;
            self.sum_sq += d * d - e * e;
        } else {
            self.sum += d;
            self.sum_sq += d * d;
        }
        if !self.ring.is_full() {
            return None;
        }
        let m = self.sum * self.inv_n;
        Some((self.anchor + m, self.sum_sq * self.inv_n - m * m))
    }

    pub(crate) fn clear(&mut self) {
        self.ring.clear();
        self.sum = 0.0;
        self.sum_sq = 0.0;
        self.count = 0;
    }
}

/// Population standard deviation over n values, times `k` (TA-Lib `STDDEV(n, k)`).
#[derive(Debug, Clone)]
pub struct Stddev {
    m: Moments,
    k: f64,
    value: Option<f64>,
}

impl Stddev {
    /// # Errors
    /// When `n` is 0.
    pub fn new(n: usize, k: f64) -> Result<Self, TaError> {
        check_period("STDDEV", n, 1)?;
        Ok(Stddev {
            m: Moments::new(n),
            k,
            value: None,
        })
    }
}

impl Indicator for Stddev {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        if let Some((_, var)) = self.m.push(x) {
            self.value = Some(sigma(var) * self.k);
        }
        self.value
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        self.m.clear();
        self.value = None;
    }
}

/// Batch STDDEV.
///
/// # Errors
/// When `n` is 0 or `out` has another length than `input`.
pub fn stddev(input: &[f64], n: usize, k: f64, out: &mut [f64]) -> Result<(), TaError> {
    check_period("STDDEV", n, 1)?;
    check_len("output", out.len(), input.len())?;
    out[..(n - 1).min(input.len())].fill(f64::NAN);
    if input.len() < n {
        return Ok(());
    }
    // `Moments::push` without the ring: the window is a slice of the input.
    let inv_n = 1.0 / n as f64;
    let period = reanchor_period(n);
    let mut anchor = input[0];
    let (mut sum, mut sum_sq) = deviation_sums(input[..n - 1].iter().copied(), anchor);
    for i in n - 1..input.len() {
        let x = input[i];
        if i >= n && i.is_multiple_of(period) {
            anchor = input[i - 1];
            (sum, sum_sq) = deviation_sums(input[i - n..i].iter().copied(), anchor);
        }
        let d = x - anchor;
        if i >= n {
            let e = input[i - n] - anchor;
            sum += d - e;
            sum_sq += d * d - e * e;
        } else {
            sum += d;
            sum_sq += d * d;
        }
        let m = sum * inv_n;
        out[i] = sigma(sum_sq * inv_n - m * m) * k;
    }
    Ok(())
}

/// One Bollinger output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BbandsValue {
    pub upper: f64,
    pub middle: f64,
    pub lower: f64,
}

/// Bollinger bands: SMA n ± k population σ (TA-Lib `BBANDS(n, k, k, SMA)`).
#[derive(Debug, Clone)]
pub struct Bbands {
    pub(crate) m: Moments,
    k: f64,
    value: Option<BbandsValue>,
}

impl Bbands {
    /// # Errors
    /// When `n` is 0.
    pub fn new(n: usize, k: f64) -> Result<Self, TaError> {
        check_period("BBANDS", n, 1)?;
        Ok(Bbands {
            m: Moments::new(n),
            k,
            value: None,
        })
    }
}

#[inline]
fn bands(mean: f64, var: f64, k: f64) -> BbandsValue {
    let w = sigma(var) * k;
    BbandsValue {
        upper: mean + w,
        middle: mean,
        lower: mean - w,
    }
}

impl Indicator for Bbands {
    type Input = f64;
    type Output = BbandsValue;

    #[inline]
    fn update(&mut self, x: f64) -> Option<BbandsValue> {
        if let Some((mean, var)) = self.m.push(x) {
            self.value = Some(bands(mean, var, self.k));
        }
        self.value
    }

    fn value(&self) -> Option<BbandsValue> {
        self.value
    }

    fn reset(&mut self) {
        self.m.clear();
        self.value = None;
    }
}

/// Batch Bollinger bands into three buffers.
///
/// # Errors
/// When `n` is 0 or a buffer has another length than `input`.
pub fn bbands(
    input: &[f64],
    n: usize,
    k: f64,
    upper: &mut [f64],
    middle: &mut [f64],
    lower: &mut [f64],
) -> Result<(), TaError> {
    let mut m = Moments::new(n);
    check_period("BBANDS", n, 1)?;
    check_len("upper output", upper.len(), input.len())?;
    check_len("middle output", middle.len(), input.len())?;
    check_len("lower output", lower.len(), input.len())?;
    for (i, &x) in input.iter().enumerate() {
        let b = m.push(x).map_or(
            BbandsValue {
                upper: f64::NAN,
                middle: f64::NAN,
                lower: f64::NAN,
            },
            |(mean, var)| bands(mean, var, k),
        );
        upper[i] = b.upper;
        middle[i] = b.middle;
        lower[i] = b.lower;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::drive;
    use super::super::testutil::{prices, same};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn moments_match_two_pass(xs in proptest::collection::vec(59_000.0f64..61_000.0, 1..700), n in 1usize..30) {
            // Between re-anchorings the sums of squared deviations (up to range² each) pick up
            // a rounding per update: a variance near 0 is off by a little of that scale.
            let range = 2_000.0f64;
            let mut m = Moments::new(n);
            for i in 0..xs.len() {
                let got = m.push(xs[i]);
                prop_assert_eq!(got.is_some(), i + 1 >= n);
                if let Some((mean, var)) = got {
                    let w = &xs[i + 1 - n..=i];
                    let nf = n as f64;
                    let mu = w.iter().sum::<f64>() / nf;
                    let v = w.iter().map(|x| (x - mu) * (x - mu)).sum::<f64>() / nf;
                    prop_assert!((mean - mu).abs() <= 1e-12 * mu);
                    prop_assert!((var - v).abs() <= 1e-9 * v + 1e-13 * range * range, "var {} two-pass {}", var, v);
                }
            }
        }

        #[test]
        fn streaming_equals_batch(xs in prices(), n in 1usize..30) {
            let len = xs.len();
            let (mut a, mut b) = (vec![0.0; len], vec![0.0; len]);
            stddev(&xs, n, 1.5, &mut a).unwrap();
            drive(Stddev::new(n, 1.5).unwrap(), xs.iter().copied(), &mut b);
            for i in 0..len {
                prop_assert!(same(a[i], b[i]), "stddev i={}", i);
            }
            let (mut u, mut m, mut l) = (vec![0.0; len], vec![0.0; len], vec![0.0; len]);
            bbands(&xs, n, 2.0, &mut u, &mut m, &mut l).unwrap();
            let mut s = Bbands::new(n, 2.0).unwrap();
            for i in 0..len {
                match s.update(xs[i]) {
                    Some(v) => prop_assert!(same(v.upper, u[i]) && same(v.middle, m[i]) && same(v.lower, l[i])),
                    None => prop_assert!(u[i].is_nan() && m[i].is_nan() && l[i].is_nan()),
                }
            }
        }
    }
}
